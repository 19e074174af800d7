"""List updates (D-FIL-1): a new generation is checked and compiled aside, then switched to with
one rename; a refused update leaves the current index untouched and serving; rollback."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from filtering.attempt import Outcome
from filtering.fetch import UpdateRefused
from filtering.generations import Generation, Manifest, Store
from filtering.index import Index, compile_lists
from filtering.rollback import rollback
from filtering.update import Options, update
from filtering.updatelock import UpdateBusy
from tests.unit.filtering.listgen import ut1_archive, ut1_tree

pytestmark = pytest.mark.unit

BIG = {"adult": 1500, "games": 40, "vpn": 5}
Make = Callable[..., Path]


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "state" / "filtering" / "index.cidx"


@pytest.fixture
def make(tmp_path: Path) -> Make:
    """A new archive of lists with these counts (``salt`` makes the names differ)."""
    made: list[Path] = []

    def make(counts: dict[str, int], salt: str = "a") -> Path:
        made.append(ut1_archive(tmp_path / f"src{len(made)}", counts, salt))
        return made[-1]

    return make


def run(source: Path | str, index: Path, **options: Any) -> Outcome:
    return update(Options(str(source), index, **options))


def meta(index: Path) -> dict[str, Any]:
    with Index.open(index) as opened:
        return opened.meta


def status(index: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(Store(index).status_path.read_text(encoding="utf-8"))
    return doc


def kept(index: Path) -> list[str]:
    return sorted(p.name for p in Store(index).dir.glob("*.cidx"))


def test_first_update_creates_the_index_and_a_generation(index: Path, make: Make) -> None:
    archive = make(BIG)
    outcome = run(archive, index)
    assert outcome.before is None and outcome.after is not None
    assert index.is_symlink() and str(index.readlink()) == f"generations/{outcome.after.name}"
    assert kept(index) == [outcome.after.name]
    assert outcome.after.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert outcome.after.name.endswith(f"-{outcome.after.sha256[:8]}.cidx")
    assert outcome.after.categories == BIG and outcome.after.domains == sum(BIG.values())
    with Index.open(index) as opened:
        assert opened.lookup("adult-a7.example") == {"adult"}
    manifest = json.loads(Store(index).manifest_path.read_text(encoding="utf-8"))
    assert [g["name"] for g in manifest["generations"]] == [outcome.after.name]
    assert manifest["generations"][0]["source"] == str(archive)


def test_a_second_update_switches_and_keeps_the_previous(index: Path, make: Make) -> None:
    first = run(make(BIG), index).after
    second = run(make({**BIG, "adult": 1600}, salt="b"), index)
    assert first is not None and second.after is not None
    assert second.before == first
    assert str(index.readlink()) == f"generations/{second.after.name}"
    assert kept(index) == sorted([first.name, second.after.name])
    with Index.open(index) as opened:
        assert opened.lookup("adult-b1599.example") == {"adult"}
        assert opened.lookup("adult-a1.example") == frozenset()


def test_the_same_archive_again_changes_nothing(index: Path, make: Make) -> None:
    archive = make(BIG)
    first = run(archive, index).after
    again = run(archive, index)
    assert again.after is None and again.before == first
    assert "unchanged" in again.note
    assert first is not None and kept(index) == [first.name]


def test_a_checksum_mismatch_is_refused_and_the_old_index_serves(index: Path,
                                                                 make: Make) -> None:
    run(make(BIG), index)
    before, link = meta(index), str(index.readlink())
    new = make({**BIG, "games": 50}, salt="b")
    with pytest.raises(UpdateRefused, match=r"sha256 is .*, --checksum says 0+") as refused:
        run(new, index, checksum="0" * 64)
    assert refused.value.exit_code == 2
    assert meta(index) == before and str(index.readlink()) == link
    assert len(kept(index)) == 1
    assert not list(Store(index).dir.glob(".work-*"))  # nothing left behind
    md5 = hashlib.md5(new.read_bytes(), usedforsecurity=False).hexdigest()
    assert run(new, index, checksum=md5).after is not None  # the right md5 passes


def test_a_shrink_of_more_than_half_is_refused_naming_the_category(index: Path,
                                                                   make: Make) -> None:
    run(make({"adult": 2000, "gambling": 1200, "games": 40}), index)
    before = meta(index)
    with pytest.raises(UpdateRefused) as refused:
        run(make({"adult": 900, "games": 2}, salt="b"), index)
    message = refused.value.message
    assert "adult: 2,000 → 900 domains (-55%)" in message
    assert "gambling: 1,200 domains → category gone" in message
    assert "games" not in message  # 40 domains: too small to be watched
    assert "--max-shrink" in (refused.value.hint or "")
    assert meta(index) == before
    # a loss of exactly half passes; --max-shrink 1 lets a real change through
    assert run(make({"adult": 1000, "gambling": 600}, salt="c"), index).after is not None
    assert run(make({"adult": 10}, salt="d"), index, max_shrink=1.0).after is not None


def test_lists_without_a_domain_are_refused(index: Path, make: Make, tmp_path: Path) -> None:
    run(make(BIG), index)
    tree = tmp_path / "urls-only"
    (tree / "blacklists" / "games").mkdir(parents=True)
    (tree / "blacklists" / "games" / "urls").write_text("example.org/jeux\n", encoding="utf-8")
    with pytest.raises(UpdateRefused, match="no usable domain"):
        run(tree, index)
    (tree / "blacklists" / "games" / "urls").write_text("not a url at all\n", encoding="utf-8")
    with pytest.raises(UpdateRefused, match="no usable entry"):
        run(tree, index)


def test_a_truncated_archive_is_refused(index: Path, make: Make, tmp_path: Path) -> None:
    run(make(BIG), index)
    before = meta(index)
    whole = make({**BIG, "games": 60}, salt="b").read_bytes()
    truncated = tmp_path / "blacklists.tar.gz"
    truncated.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(UpdateRefused, match="not a readable list archive"):
        run(truncated, index)
    assert meta(index) == before
    assert status(index)["result"] == "refused"


def test_rollback_restores_the_previous_generation(index: Path, make: Make) -> None:
    first = run(make(BIG), index).after
    bad = make({**BIG, "games": 80}, salt="b")
    second = run(bad, index).after
    assert first is not None and second is not None
    back = rollback(index)
    assert back.before == second and back.after == first
    assert str(index.readlink()) == f"generations/{first.name}"
    assert meta(index)["sha256"] == first.index_sha256
    with pytest.raises(UpdateRefused, match="no generation to roll back to"):
        rollback(index)
    assert str(index.readlink()) == f"generations/{first.name}"
    # the lists rolled back from are not re-applied by the next (daily) update...
    with pytest.raises(UpdateRefused, match=f"generation {second.name}, rolled back"):
        run(bad, index)
    # ...unless asked; newer lists go through as usual
    assert run(bad, index, allow_withdrawn=True).after is not None
    assert run(make(BIG, salt="c"), index).after is not None


def test_rollback_without_generations_is_refused(index: Path) -> None:
    with pytest.raises(UpdateRefused, match="none is kept"):
        rollback(index)


def test_generations_beyond_keep_are_pruned(index: Path, make: Make) -> None:
    names = []
    for salt in "abcd":
        outcome = run(make(BIG, salt=salt), index, keep=2)
        assert outcome.after is not None
        names.append(outcome.after.name)
    assert kept(index) == sorted(names[-2:])
    assert outcome.pruned == [names[1]]
    assert str(index.readlink()) == f"generations/{names[-1]}"
    manifest = json.loads(Store(index).manifest_path.read_text(encoding="utf-8"))
    assert [g["name"] for g in manifest["generations"]] == names[-2:]


def test_pruning_never_removes_the_current_generation(tmp_path: Path) -> None:
    store = Store(tmp_path / "index.cidx")
    store.dir.mkdir()
    generations = [Generation(f"g{i}.cidx", f"2026-01-0{i}T00:00:00+00:00", "s", "x", 1)
                   for i in range(1, 5)]
    for generation in generations:
        store.path(generation).write_bytes(b"")
    manifest = Manifest(list(generations))
    assert store.prune(manifest, 1, current=generations[0]) == ["g2.cidx", "g3.cidx"]
    assert [g.name for g in manifest.generations] == ["g1.cidx", "g4.cidx"]
    assert sorted(p.name for p in store.dir.iterdir()) == ["g1.cidx", "g4.cidx"]


def test_an_index_compiled_in_place_is_kept_to_roll_back_to(index: Path, make: Make,
                                                            tmp_path: Path) -> None:
    index.parent.mkdir(parents=True)
    compile_lists(ut1_tree(tmp_path / "old", BIG, salt="z"), index, "carine filter compile")
    compiled = meta(index)
    outcome = run(make(BIG), index)
    assert outcome.before is not None and outcome.before.source == "carine filter compile"
    assert outcome.before.index_sha256 == compiled["sha256"]
    rollback(index)
    assert meta(index)["sha256"] == compiled["sha256"]


def test_the_switch_is_one_rename_over_the_index(index: Path, make: Make,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    run(make(BIG), index)
    new = make(BIG, salt="b")
    touching: list[str] = []
    real_replace, real_rename, real_unlink = os.replace, os.rename, os.unlink

    def watch(name: str, real: Callable[..., None]) -> Callable[..., None]:
        def call(src: Any, dst: Any = None, *args: Any, **kwargs: Any) -> None:
            target = Path(dst if dst is not None else src)
            if target == index:
                touching.append(name)
                assert meta(index)["source"] != str(new)  # just before: the old lists, whole
            real(src, *(() if dst is None else (dst,)), *args, **kwargs)
            if target == index:
                assert meta(index)["source"] == str(new)  # just after: the new ones, whole
        return call

    monkeypatch.setattr(os, "replace", watch("replace", real_replace))
    monkeypatch.setattr(os, "rename", watch("rename", real_rename))
    monkeypatch.setattr(os, "unlink", watch("unlink", real_unlink))
    run(new, index)
    assert touching == ["replace"]


def test_readers_always_open_a_whole_index(index: Path, make: Make) -> None:
    run(make(BIG), index)
    stop, failures, opened = threading.Event(), [], [0]

    def reader() -> None:
        while not stop.is_set():
            try:
                with Index.open(index) as current:
                    assert current.lookup("games-a1.example") <= {"games"}
                opened[0] += 1
            except Exception as exc:  # any failure is the finding
                failures.append(exc)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for salt in "bcd":
            run(make(BIG, salt=salt), index)
        rollback(index)
    finally:
        stop.set()
        thread.join()
    assert failures == [] and opened[0] > 0


def test_a_second_update_is_turned_away_or_waits(index: Path, make: Make) -> None:
    archive = make(BIG)
    store = Store(index)
    store.dir.mkdir(parents=True)
    holder = os.open(store.lock_path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another update, running
    with pytest.raises(UpdateBusy, match=r"another list update .* is running"):
        run(archive, index)
    assert not index.exists() and not store.status_path.exists()  # its status is not ours
    threading.Timer(0.3, os.close, (holder,)).start()  # the other update finishes
    started = time.monotonic()
    assert run(archive, index, wait=10).after is not None
    assert time.monotonic() - started >= 0.25


def test_status_reflects_each_attempt(index: Path, make: Make, tmp_path: Path) -> None:
    first = run(make(BIG), index).after
    assert first is not None
    ok = status(index)
    assert ok["action"] == "update" and ok["result"] == "ok"
    assert ok["generation"] == first.name and ok["generation_created"] == first.created
    assert ok["domains"] == first.domains and ok["generation_published"]
    assert ok["last_success"] == ok["finished"]

    with pytest.raises(UpdateRefused):
        run(make(BIG, salt="b"), index, checksum="f" * 32)
    refused = status(index)
    assert refused["result"] == "refused" and "md5 is" in refused["reason"]
    assert refused["generation"] == first.name and refused["last_success"] == ok["last_success"]

    with pytest.raises(Exception, match="no such archive"):
        run(tmp_path / "missing.tar.gz", index)
    assert status(index)["result"] == "error"

    run(make(BIG, salt="c"), index)
    rollback(index)
    back = status(index)
    assert back["action"] == "rollback" and back["result"] == "ok"
    assert back["generation"] == first.name and "rolled back to" in back["reason"]


def test_a_folder_takes_no_checksum(index: Path, tmp_path: Path) -> None:
    tree = ut1_tree(tmp_path / "tree", BIG)
    with pytest.raises(Exception, match="a checksum applies to an archive"):
        run(tree, index, checksum="0" * 64)
    outcome = run(tree, index)
    assert outcome.after is not None and outcome.after.sha256 is None
