"""The sites filter (the compiled lane skips the trie walk of names listed nowhere): it holds the
site of every domain key and every one-label key, rejects most other sites, never changes what
the lane finds, and an index compiled without it still answers."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.site import load_site
from filtering import shards, sitefilter
from filtering.compiler import compile_lists
from filtering.fastpath import FastLane, native_module
from filtering.index import Index
from filtering.lists import read_lists
from filtering.policy import relevant_categories
from tests.conftest import EXAMPLES
from tests.unit.filtering.conftest import write_tree
from tests.unit.filtering.test_shards import TREE, _hosts

pytestmark = pytest.mark.unit


def _native() -> Any:
    module = native_module()
    assert module is not None, "the compiled lane is built by make install"
    return module


@pytest.fixture
def sharded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Index]:
    lists = write_tree(tmp_path / "lists", TREE)
    monkeypatch.setattr(shards, "MAX_SHARD_KEYS", 60)
    compile_lists(lists, tmp_path / "many.cidx")
    with Index.open(tmp_path / "many.cidx") as index:
        yield index


def _filter(index: Index) -> memoryview:
    assert index._sites is not None, "the compiler wrote no sites filter"
    return index._sites


def test_every_site_and_one_label_key_is_held(sharded: Index, tmp_path: Path) -> None:
    module, data = _native(), _filter(sharded)
    keys = read_lists(tmp_path / "lists").domains
    assert "xxx." in keys  # a one-label key: held whole
    for key in keys:
        site = shards.site_of(key) or key
        assert module.may_hold(data, site.encode()), site


def test_most_other_sites_are_rejected() -> None:
    module = _native()
    built = sitefilter.SiteFilter(20_000, module)
    for n in range(20_000):
        built.add(f"fr.listed{n}.")
    data = built.data()
    assert data is not None and len(data) % sitefilter.BLOCK == 0
    assert all(module.may_hold(data, f"fr.listed{n}.".encode()) for n in range(20_000))
    rng = random.Random(3)
    others = [f"com.other{rng.randrange(10**9)}." for _ in range(20_000)]
    wrong = sum(1 for site in others if module.may_hold(data, site.encode()))
    assert wrong < 200  # about 0.3 % expected; 1 % is the bound


def test_the_lane_finds_the_same_with_and_without_the_filter(sharded: Index,
                                                             tmp_path: Path) -> None:
    relevant = relevant_categories(load_site(EXAMPLES / "site.yaml").filtering)
    sharded.consider(relevant)
    lanes = []
    for sites in (_filter(sharded), None):
        lane = FastLane.build(tuple(sharded._views), sharded._sets,  # type: ignore[arg-type]
                              {}, relevant, sharded.shards, sites)
        assert lane is not None
        lanes.append(lane)
    checked = 0
    for host in _hosts(sorted(read_lists(tmp_path / "lists").domains)):
        for candidate in (host, "nowhere-" + host, host + ".example"):
            found = lanes[0].native.categories(candidate, "/")
            assert found == lanes[1].native.categories(candidate, "/"), candidate
            checked += found is not None
    assert checked > 2000
    for lane in lanes:
        lane.close()


def test_an_index_without_the_filter_still_answers(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    lists = write_tree(tmp_path / "lists", TREE)
    compile_lists(lists, tmp_path / "with.cidx")
    monkeypatch.setattr(sitefilter, "native_module", lambda: None)
    compile_lists(lists, tmp_path / "without.cidx")
    relevant = relevant_categories(load_site(EXAMPLES / "site.yaml").filtering)
    with Index.open(tmp_path / "with.cidx") as new, Index.open(tmp_path / "without.cidx") as old:
        assert old._sites is None and "domain_sites" not in old.meta["sections"]
        old.consider(relevant)
        lane = old.fast_lane(relevant)
        assert lane is not None
        for host in ("example.com", "www.example.com", "deep.a3.xxx", "nothing.org"):
            assert old.lookup(host, "/") == new.lookup(host, "/")
            assert lane.native.categories(host, "/") == \
                lane.mask(old.lookup(host, "/") & frozenset(lane.bits)), host


def test_a_filter_that_is_not_whole_blocks_is_refused(sharded: Index) -> None:
    module = _native()
    with pytest.raises(ValueError, match="whole aligned blocks"):
        module.may_hold(b"\0" * 63, b"fr.x.")
    with pytest.raises(ValueError, match="whole aligned blocks"):
        module.FastPath(*sharded._views, [0] * len(sharded._sets), [], sharded.shards,
                        b"\0" * 100)
