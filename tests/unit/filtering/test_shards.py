"""The domain trie in shards (bounded compile memory): a sharded index answers every lookup as a
single trie does, in Python and in the compiled lane (same CRC-32), names each domain once, and
a version 1 index (one trie) or damaged shard table is handled."""

from __future__ import annotations

import json
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.errors import CarineError
from appliance.site import load_site
from filtering import indexfile, shards
from filtering.compiler import compile_lists
from filtering.index import Index
from filtering.lists import read_lists
from filtering.policy import relevant_categories
from tests.conftest import EXAMPLES
from tests.unit.filtering.conftest import Tree, write_tree

pytestmark = pytest.mark.unit

TREE: Tree = {
    "games": {"domains": "example.com\njeux.fr\nbücher.de\n192.0.2.7\nxxx\nshop.jeux.fr\n"
                         + "".join(f"jeu{n}.example{n % 7}.fr\n" for n in range(300)),
              "urls": "www.site.fr/jeux\n"},
    "shopping": {"domains": "shop.jeux.fr\nboth.fr\n"
                            + "".join(f"shop{n}.fr\n" for n in range(200))},
    "adult": {"domains": "both.fr\nxxx\n" + "".join(f"a{n}.xxx\n" for n in range(100))},
}


def _hosts(tree_keys: list[str]) -> Iterator[str]:
    rng = random.Random(7)
    for key in tree_keys:
        host = ".".join(key[:-1].split(".")[::-1])
        yield host
        yield "www." + host
        yield "x" + host
        yield f"{rng.choice(['a', 'cdn', 'm.w'])}.{host}"
    yield from ("xxx", "deep.a3.xxx", "com", "fr", "192.0.2.7", "192.0.2.70", "nothing.org")


@pytest.fixture
def pair(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Index, Index]]:
    """The same tree compiled into one trie and into several shards."""
    lists = write_tree(tmp_path / "lists", TREE)
    compile_lists(lists, tmp_path / "one.cidx")
    monkeypatch.setattr(shards, "MAX_SHARD_KEYS", 60)
    compile_lists(lists, tmp_path / "many.cidx")
    with Index.open(tmp_path / "one.cidx") as one, Index.open(tmp_path / "many.cidx") as many:
        yield one, many


def test_a_sharded_index_answers_as_one_trie(pair: tuple[Index, Index], tmp_path: Path) -> None:
    one, many = pair
    assert len(one.shards) == 1
    assert len(many.shards) == 11  # 612 domain lines, at most 60 keys a shard
    keys = sorted(read_lists(tmp_path / "lists").domains)
    for host in _hosts(keys):
        assert many.lookup(host, "/") == one.lookup(host, "/"), host
    assert many.lookup("deep.a3.xxx") == {"adult", "games"}  # a one-label entry, in every shard
    assert many.meta["counts"]["domains"] == one.meta["counts"]["domains"] == len(keys)


def test_each_domain_is_named_once(pair: tuple[Index, Index]) -> None:
    one, many = pair
    for wanted in (["games"], ["adult"], ["games", "shopping", "adult"]):
        named = list(many.domains(wanted))
        assert len(named) == len(set(named))
        assert sorted(named) == sorted(one.domains(wanted))


def test_the_lane_picks_the_same_shard(pair: tuple[Index, Index], tmp_path: Path) -> None:
    """The C++ CRC-32 must equal zlib's, or lookups would miss in the lane only."""
    _, many = pair
    relevant = relevant_categories(load_site(EXAMPLES / "site.yaml").filtering)
    many.consider(relevant)
    lane = many.fast_lane(relevant)
    assert lane is not None
    keys = sorted(read_lists(tmp_path / "lists").domains)
    checked = 0
    for host in _hosts(keys):
        found = lane.native.categories(host, "/")
        if found is None:
            continue
        assert found == lane.mask(many.lookup(host, "/") & frozenset(lane.bits)), host
        checked += 1
    assert checked > 1000


def test_shard_of_is_zlib_crc32_of_the_first_two_labels() -> None:
    assert shards.shard_of("com.example.www.", 1) == 0
    assert shards.shard_of("com.", 5) == 0
    assert shards.shard_of("com.example.www.", 5) == zlib.crc32(b"com.example.") % 5
    assert shards.shard_of("com.example.", 5) == shards.shard_of("com.example.a.b.", 5)
    most = shards.MAX_SHARD_KEYS
    assert [shards.shard_count(n) for n in (0, 1, most, most + 1, 5 * most)] == [1, 1, 1, 2, 5]


def _rewrite_header(path: Path, change: dict[str, object], version: int | None = None) -> None:
    raw = path.read_bytes()
    magic, old, length = indexfile.PREFIX.unpack_from(raw)
    header = json.loads(raw[indexfile.PREFIX.size:indexfile.PREFIX.size + length])
    header.update(change)
    header = {k: v for k, v in header.items() if v is not None}
    text = json.dumps(header).encode()
    text += b" " * (-(indexfile.PREFIX.size + len(text)) % indexfile.ALIGN)
    path.write_bytes(struct.pack("<8sII", magic, version or old, len(text)) + text
                     + raw[indexfile.PREFIX.size + length:])


def test_a_version_1_index_is_one_trie(tmp_path: Path) -> None:
    """Indexes written before shards still open (after an upgrade, before the next compile)."""
    lists = write_tree(tmp_path / "lists", TREE)
    out = tmp_path / "v1.cidx"
    compile_lists(lists, out)
    _rewrite_header(out, {"format": 1, "domain_shards": None}, version=1)
    with Index.open(out) as index:
        assert index.lookup("www.shop.jeux.fr") == {"games", "shopping"}


def test_a_damaged_shard_table_is_refused(tmp_path: Path) -> None:
    lists = write_tree(tmp_path / "lists", TREE)
    out = tmp_path / "bad.cidx"
    compile_lists(lists, out)
    _rewrite_header(out, {"domain_shards": [[4, 10**9, 0, 2]]})
    with pytest.raises(CarineError, match="domain shards do not fit"):
        Index.open(out, verify=False)


def test_compile_leaves_no_work_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lists = write_tree(tmp_path / "lists", TREE)
    (tmp_path / "out").mkdir()
    monkeypatch.setattr(shards, "MAX_SHARD_KEYS", 100)
    compile_lists(lists, tmp_path / "out" / "index.cidx")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["index.cidx"]
