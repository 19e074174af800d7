"""The Squid helper's protocol and decision loop, with a small in-memory list (pure logic)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from appliance.render.layout import Layout
from appliance.site import load_site
from appliance.state import connect
from filtering import store
from filtering.config import FilterConfig, render_config
from filtering.decide import Decider, Lists, Request, target_host
from filtering.helper import format_answer, parse, serve

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
PUPIL, STAFF, ADMIN_DIRECT = "10.30.0.57", "10.20.0.60", "10.99.0.150"


class FakeLists:
    """A stand-in for filtering.index.Index: exact host -> categories, with parent domains."""

    def __init__(self, entries: dict[str, set[str]]) -> None:
        self.entries = entries
        self.closed = False

    def lookup(self, host: str, path: str | None = None) -> frozenset[str]:
        found: set[str] = set()
        labels = host.split(".")
        for i in range(len(labels)):
            found |= self.entries.get(".".join(labels[i:]), set())
        return frozenset(found)

    def host_categories(self, host: str) -> tuple[frozenset[str], bool]:
        return self.lookup(host), False

    def path_categories(self, host: str, path: str | None, has_urls: bool = True
                        ) -> frozenset[str]:
        return frozenset()

    def consider(self, categories: frozenset[str]) -> None:
        self.considered = categories

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def config(tmp_path: Path) -> FilterConfig:
    site = load_site(Path(__file__).resolve().parents[2] / "examples" / "site.yaml")
    layout = Layout.in_tree(tmp_path)
    path = tmp_path / "filtering.json"
    path.write_text(render_config(site, layout), encoding="utf-8")
    return FilterConfig.load(path)


@pytest.fixture
def decider(config: FilterConfig) -> Decider:
    config.index.parent.mkdir(parents=True, exist_ok=True)
    config.index.write_bytes(b"index")
    lists = FakeLists({"jeux.example": {"games"}, "vpn.example": {"vpn"}})
    return Decider(config, lambda _: lists, clock=lambda: NOW)


def req(client: str, host: str, method: str = "GET", path: str = "/", sni: str = "") -> Request:
    return Request(client, "", method, host, path, sni)


def test_pupil_is_refused_a_games_site_with_the_reason(decider: Decider) -> None:
    answer = decider.decide(req(PUPIL, "www.jeux.example"))
    assert not answer.ok
    assert answer.notes["category"] == "games" and answer.notes["profile"] == "eleve"
    assert answer.notes["message"] == "category/games/eleve"


def test_staff_reach_the_games_site(decider: Decider) -> None:
    answer = decider.decide(req(STAFF, "www.jeux.example"))
    assert answer.ok and answer.notes["profile"] == "enseignant"


def test_refusals_are_recorded_for_the_recently_blocked_page(decider: Decider,
                                                             config: FilterConfig) -> None:
    decider.decide(req(PUPIL, "10.0.0.1:443", "CONNECT", "", sni="vpn.example"))
    decider.decide(req(PUPIL, "10.0.0.1:443", "CONNECT", "", sni="vpn.example"))
    conn = connect(config.store)
    assert store.recent_blocks(conn, PUPIL, NOW) == []  # batched: one write a second
    decider.flush()
    blocked = store.recent_blocks(conn, PUPIL, NOW)
    assert [(b.host, b.category, b.reason) for b in blocked] == \
        [("vpn.example", "vpn", "national-category")]
    assert store.recent_blocks(conn, STAFF, NOW) == []


def test_the_sni_is_judged_rather_than_the_address(decider: Decider) -> None:
    assert decider.decide(req(PUPIL, "198.18.1.1:443", "CONNECT", "", "")).ok
    assert not decider.decide(req(PUPIL, "198.18.1.1:443", "CONNECT", "", "jeux.example")).ok


def test_a_teacher_opening_in_the_store_is_seen_without_restart(decider: Decider,
                                                                config: FilterConfig) -> None:
    assert not decider.decide(req(PUPIL, "jeux.example")).ok
    conn = connect(config.store)
    store.add_opening(conn, "jeux.example", "pedago", NOW.replace(hour=11), "m.dupont", NOW)
    decider.refresh(force=True)
    answer = decider.decide(req(PUPIL, "jeux.example"))
    assert answer.ok and answer.notes["reason"] == "teacher-opening"


def test_without_an_index_filtered_zones_fail_closed(config: FilterConfig, caplog) -> None:
    caplog.set_level(logging.ERROR)
    decider = Decider(config, lambda _: FakeLists({}), clock=lambda: NOW)
    answer = decider.decide(req(PUPIL, "www.wikipedia.org"))
    assert not answer.ok and answer.notes["reason"] == "filter-unavailable"
    assert "fail closed" in caplog.text


def test_a_new_index_is_picked_up_and_a_broken_one_keeps_the_old(decider: Decider,
                                                                 config: FilterConfig) -> None:
    from appliance.errors import CarineError

    first = decider.lists
    config.index.unlink()
    config.index.write_bytes(b"index v2")  # a new inode: the index was switched

    def broken(_: Path) -> Lists:
        raise CarineError("checksum mismatch")

    decider.open_lists = broken
    decider.refresh(force=True)
    assert decider.lists is first  # kept serving
    assert not decider.decide(req(PUPIL, "jeux.example")).ok


@pytest.mark.parametrize(("line", "channel", "request_"), [
    (b"7 10.30.0.57 - GET www.example.org /a%20b -",
     b"7", Request("10.30.0.57", "", "GET", "www.example.org", "/a b", "")),
    (b"0 10.30.0.57 jdupont CONNECT 198.18.1.1 - ent.example.fr",
     b"0", Request("10.30.0.57", "jdupont", "CONNECT", "198.18.1.1", "", "ent.example.fr")),
    (b"3 10.30.0.57 GET", b"3", None),
    (b"", b"", None),
])
def test_parse(line: bytes, channel: bytes, request_: Request | None) -> None:
    assert parse(line) == (channel, request_)


def test_target_host_normalises() -> None:
    assert target_host(req(PUPIL, "WWW.Example.ORG.:8080")) == "www.example.org"
    assert target_host(req(PUPIL, "école.fr")) == "xn--cole-9oa.fr"


def test_serve_answers_every_channel_in_batches(decider: Decider) -> None:
    lines = (b"1 10.30.0.57 - GET jeux.example / -\n"
             b"2 10.20.0.60 - GET jeux.example / -\n"
             b"3 garbage\n"
             b"4 10.99.0.150 - GET jeux.example / -\n")
    chunks = [lines[:20], lines[20:], b""]
    written: list[bytes] = []
    answered = serve(decider, lambda _: chunks.pop(0), written.append)
    out = b"".join(written).splitlines()
    assert answered == 3
    assert out[0].startswith(b"1 ERR ") and b"category=games" in out[0]
    assert out[1].startswith(b"2 OK ")
    assert out[2] == b"3 BH message=malformed"
    assert out[3].startswith(b"4 OK ") and b"reason=unfiltered-zone" in out[3]


def test_answer_values_never_break_the_protocol() -> None:
    from filtering.answer import Answer

    line = format_answer(b"9", Answer(False, {"message": "a b\nc", "category": "x=y"}))
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert b" " not in line.split(b" ERR ", 1)[1].replace(b" category=", b"")


def test_counters_count_decisions_by_profile_category_and_action(decider: Decider,
                                                                  tmp_path: Path) -> None:
    from filtering.counters import Counters, read_all

    counters = Counters(tmp_path / "helper-1.json", {"created": "2026-11-23T00:00:00+00:00"})
    lines = [b"1 10.30.0.57 - GET jeux.example / -\n", b"2 10.30.0.57 - GET jeux.example / -\n",
             b"3 10.20.0.60 - GET jeux.example / -\n", b""]
    serve(decider, lambda _: lines.pop(0), lambda _: None, counters=counters)
    (stats,) = read_all(tmp_path)
    rows: Any = stats["decisions"]
    decisions = {(d["profile"], d["category"], d["action"]): d["count"] for d in rows}
    assert decisions == {("eleve", "games", "block"): 2, ("enseignant", "-", "allow"): 1}
    latency: Any = stats["latency_counts"]
    assert sum(latency) == 3
    assert stats["index"] == {"created": "2026-11-23T00:00:00+00:00", "source": None,
                              "sha256": None}
