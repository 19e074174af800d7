"""``carine filter open|close|openings`` and ``carine filter requests [grant|refuse]`` through the
``carine`` entry: the state store the helpers read, the journal's admin records, and the national
layer that no opening or grant can loosen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.clock import FixedClock
from appliance.journal.segment import connect as segment_connect
from appliance.journal.segment import iter_records
from appliance.render.layout import Layout
from appliance.site import load_site
from appliance.state import connect
from filtering import opscli, store
from filtering.config import FilterConfig, render_config
from filtering.index import compile_lists
from filtering.policy import Policy
from tests.unit.filtering.conftest import write_tree

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 in Paris
PUPIL = "10.30.0.57"  # in pedago


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A rendered filtering.json (national domain tiktok.com), a small index (adult, games) and
    a journal.json; returns the options that point the commands at them."""
    monkeypatch.setattr(opscli, "CLOCK", FixedClock(NOW))
    site = load_site(REPO / "examples" / "site.yaml")
    national = site.filtering.national.model_copy(update={"blocked_domains": ("tiktok.com",)})
    filtering = site.filtering.model_copy(update={"national": national})
    site = site.model_copy(update={"filtering": filtering})
    config = tmp_path / "filtering.json"
    config.write_text(render_config(site, Layout.in_tree(tmp_path)), encoding="utf-8")
    index = FilterConfig.load(config).index
    index.parent.mkdir(parents=True)
    lists = write_tree(tmp_path / "lists", {"adult": {"domains": "adult.example\n"},
                                            "games": {"domains": "poki.com\n"}})
    compile_lists(lists, index)
    journal = tmp_path / "journal.json"
    journal.write_text(json.dumps({"root": str(tmp_path / "journal"),
                                   "state": str(tmp_path / "ingest"),
                                   "retention": {"admin": 365}}), encoding="utf-8")
    return ["--config", str(config), "--journal-config", str(journal), "--by", "mme.martin"]


def _store(opts: list[str]) -> FilterConfig:
    return FilterConfig.load(Path(opts[1]))


def _admin(opts: list[str]) -> list[str]:
    """The actions the journal's admin records name, in order."""
    root = Path(json.loads(Path(opts[3]).read_text())["root"])
    rows = []
    for path in sorted((root / "admin").glob("*.sqlite")):
        conn = segment_connect(path, "admin", datetime.fromisoformat(path.stem).date(),
                               create=False)
        rows += [json.loads(record.body)["action"] for record, _, _ in iter_records(conn, "admin")]
    return rows


def test_open_list_close(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "open", "poki.com", "--zone", "pedago", "--until", "11:30",
                 *tree]) == 0
    assert capsys.readouterr().out == \
        "opening 1: poki.com for pedago until 2026-03-10 11:30\n"
    config = _store(tree)
    conn = connect(config.store)
    opened = store.openings(conn, NOW)
    assert [(o.domain, o.zone, o.until, o.by) for o in opened] == \
        [("poki.com", "pedago", datetime(2026, 3, 10, 10, 30, tzinfo=UTC), "mme.martin")]
    # The helper's policy, fed from the store as decide.py feeds it, now lets the pupil in.
    policy = Policy(config.filtering, opened)
    assert policy.decide("eleve", "pedago", "poki.com", frozenset({"games"}), NOW).allowed
    assert main(["filter", "openings", *tree]) == 0
    assert "poki.com" in capsys.readouterr().out
    assert main(["filter", "close", "1", *tree]) == 0
    assert capsys.readouterr().out == "opening 1 closed: poki.com for pedago\n"
    assert store.openings(conn, NOW) == []
    assert main(["filter", "openings", *tree]) == 0
    assert capsys.readouterr().out == "no running opening\n"
    assert _admin(tree) == ["filter.open", "filter.close"]


def test_national_layer_stays_closed(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    for target in ("www.tiktok.com", "adult.example"):
        assert main(["filter", "open", target, "--zone", "pedago", *tree]) == 1
        err = capsys.readouterr().err
        assert "blocked by the national layer" in err and "nothing was opened" in err
    conn = connect(_store(tree).store)
    assert store.openings(conn, NOW) == []
    assert _admin(tree) == []


def test_bad_openings_are_refused(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["filter", "open", "poki.com", "--zone", "nowhere", *tree]) == 1
    assert "'nowhere' is no filtered zone" in capsys.readouterr().err
    assert main(["filter", "open", "not a name", "--zone", "pedago", *tree]) == 1
    assert "is not a site name" in capsys.readouterr().err
    assert main(["filter", "open", "poki.com", "--zone", "pedago", "--minutes", "2000",
                 *tree]) == 1
    assert "an opening ends after now and within 12:00:00" in capsys.readouterr().err
    assert main(["filter", "close", "7", *tree]) == 1
    assert "no running opening number 7" in capsys.readouterr().err


def _request(opts: list[str], host: str) -> int:
    conn = connect(_store(opts).store)
    store.prepare(conn)
    return store.request_unblock(conn, PUPIL, host, f"https://{host}/", "games", "cours",
                                 "pour le TP", NOW - timedelta(minutes=5))


def test_requests_grant_and_refuse(tree: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    first, second, third = (_request(tree, h) for h in ("poki.com", "jeux.fr", "tiktok.com"))
    assert main(["filter", "requests", *tree]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in listed] == [str(first), str(second), str(third)]
    assert "2026-03-10 09:55" in listed[0] and "« pour le TP »" in listed[0]
    # Options before the answer's name are kept (the nested parser does not reset them).
    assert main(["filter", "requests", *tree, "grant", str(first), "--minutes", "30"]) == 0
    assert capsys.readouterr().out == \
        f"request {first}: poki.com opened for pedago until 2026-03-10 10:30\n"
    assert main(["filter", "requests", "grant", str(second), "--permanent", *tree]) == 0
    assert "jeux.fr allowed for the whole school" in capsys.readouterr().out
    assert main(["filter", "requests", "grant", str(third), *tree]) == 1
    assert "cannot be granted" in capsys.readouterr().err
    assert main(["filter", "requests", "refuse", str(third), "--answer", "bloqué", *tree]) == 0
    assert main(["filter", "requests", "refuse", str(third), "--answer", "x", *tree]) == 1
    assert "already answered (refused by mme.martin)" in capsys.readouterr().err
    conn = connect(_store(tree).store)
    assert [o.domain for o in store.openings(conn, NOW)] == ["poki.com"]
    assert store.exceptions(conn) == (["jeux.fr"], [])
    assert [r["id"] for r in store.unblock_requests(conn, "granted")] == [first, second]
    assert main(["filter", "requests", "--status", "refused", *tree]) == 0
    assert capsys.readouterr().out.split()[0] == str(third)
    assert main(["filter", "requests", *tree]) == 0
    assert capsys.readouterr().out == "no open request\n"
    assert _admin(tree) == ["filter.request.grant"] * 2 + ["filter.request.refuse"]
