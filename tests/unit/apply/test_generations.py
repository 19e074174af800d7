"""The generation store: numbered trees with their hashes, `current`, previous, prune, times."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath

import pytest

from appliance.apply.cli import register  # noqa: F401  (the commands import cleanly)
from appliance.apply.generations import Generation, Store, sha256
from appliance.cli import main
from appliance.errors import CarineError

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)


def _stage(store: Store, text: str, minute: int = 5) -> Generation:
    return store.stage({PurePosixPath("etc/a.conf"): text}, uai="0691234X",
                       timezone="Europe/Paris", site_text=text,
                       now=NOW.replace(minute=minute))


def test_stage_current_previous(tmp_path) -> None:
    store = Store(tmp_path)
    assert store.current() is None and store.all() == []
    one = _stage(store, "a=1\n")
    assert one.number == 1 and one.state == "staged"
    assert one.files == {"etc/a.conf": sha256("a=1\n")}
    assert (one.tree / "etc/a.conf").stat().st_mode & 0o777 == 0o600
    store.make_current(store.mark(one, "applied"))
    two = store.mark(_stage(store, "a=2\n", 6), "applied")
    store.make_current(two)
    cur, prev = store.current(), store.previous()
    assert cur is not None and prev is not None
    assert cur.number == 2 and prev.number == 1
    assert cur.contents() == {PurePosixPath("etc/a.conf"): "a=2\n"}
    failed = store.mark(_stage(store, "a=3\n", 7), "failed")
    assert failed.number == 3 and store.current() == cur


def test_time_is_shown_in_the_site_time_zone(tmp_path) -> None:
    gen = _stage(Store(tmp_path), "x\n")
    assert gen.created == NOW and gen.created.tzinfo is not None
    assert gen.local_time() == "2026-12-07 14:05:00 CET"


def test_naive_time_is_refused(tmp_path) -> None:
    with pytest.raises(CarineError):
        Store(tmp_path).stage({}, uai="x", timezone="UTC", site_text="",
                              now=datetime(2026, 1, 1))


def test_prune_keeps_current_and_previous(tmp_path) -> None:
    store = Store(tmp_path)
    for i in range(6):
        gen = store.mark(_stage(store, f"{i}\n", i), "applied")
    store.make_current(store.get(2))
    removed = store.prune(keep=2)
    assert 2 in {g.number for g in store.all()} and 1 in {g.number for g in store.all()}
    assert removed == [3, 4] and gen.number == 6


def test_damaged_generation_is_named(tmp_path) -> None:
    store = Store(tmp_path)
    gen = _stage(store, "x\n")
    (gen.folder / "generation.json").write_text("{", encoding="utf-8")
    with pytest.raises(CarineError, match="damaged"):
        store.all()


def test_generations_and_diff_commands(tmp_path, capsys) -> None:
    store = Store(tmp_path)
    assert main(["generations", "--store", str(tmp_path)]) == 0
    assert "nothing was applied" in capsys.readouterr().out
    store.make_current(store.mark(_stage(store, "x\n"), "applied"))
    assert main(["generations", "--store", str(tmp_path)]) == 0
    assert "*    1  2026-12-07 14:05:00 CET  applied" in capsys.readouterr().out
    assert main(["diff", "examples/site.yaml", "--stat", "--store", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "against generation 1" in out and "removed  /etc/a.conf" in out
    assert "start    carine-squid.service" in out
