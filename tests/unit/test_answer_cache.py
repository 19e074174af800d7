"""The helper's answer cache never serves an answer past the instant it could change: teacher
openings that end, time rules that switch, new openings and exceptions in the store, a new
index, a clock that goes back; and refusals answered from it are still recorded."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from appliance.render.layout import Layout
from appliance.site import load_site
from appliance.site.filtering import Filtering
from appliance.state import connect
from filtering import store
from filtering.answer import Answer
from filtering.config import FilterConfig, render_config
from filtering.counters import Counters
from filtering.decide import Decider, Request
from filtering.helper import answer_lines
from filtering.policy import Opening, Policy

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
MONDAY_10H = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
PUPIL, OTHER_PUPIL, STAFF = "10.30.0.57", "10.30.0.58", "10.20.0.60"


class Lists:
    """Host -> categories (with parent domains), and URL entries by host and path prefix."""

    def __init__(self, hosts: dict[str, set[str]], urls: dict[str, set[str]] | None = None):
        self.hosts, self.urls = hosts, urls or {}

    def host_categories(self, host: str) -> tuple[frozenset[str], bool]:
        labels = host.split(".")
        found: set[str] = set()
        for i in range(len(labels)):
            found |= self.hosts.get(".".join(labels[i:]), set())
        return frozenset(found), any(u.startswith(host + "/") for u in self.urls)

    def path_categories(self, host: str, path: str | None, has_urls: bool = True
                        ) -> frozenset[str]:
        url = host + (path or "/")
        return frozenset(c for entry, cats in self.urls.items() if url.startswith(entry)
                         for c in cats) if has_urls else frozenset()

    def lookup(self, host: str, path: str | None = None) -> frozenset[str]:
        return self.host_categories(host)[0] | self.path_categories(host, path)

    def consider(self, categories: frozenset[str]) -> None:
        pass

    def close(self) -> None:
        pass


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def _config(tmp_path: Path, rules: list[dict[str, Any]] | None = None) -> FilterConfig:
    site = load_site(Path(__file__).resolve().parents[2] / "examples" / "site.yaml")
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "filtering.json"
    path.write_text(render_config(site, Layout.in_tree(tmp_path)), encoding="utf-8")
    config = FilterConfig.load(path)
    config.index.parent.mkdir(parents=True, exist_ok=True)
    config.index.write_bytes(b"index")
    if rules is None:
        return config
    doc = config.filtering.model_dump(mode="json")
    doc["profiles"]["eleve"]["time_rules"] = rules
    return dataclasses.replace(config, filtering=Filtering.model_validate(doc))


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_10H)


def _decider(config: FilterConfig, clock: Clock, lists: Lists | None = None) -> Decider:
    lists = lists or Lists({"jeux.example": {"games"}, "vpn.example": {"vpn"}},
                           {"wiki.example/triche": {"cheating"}})
    return Decider(config, lambda _: lists, clock=clock)


class Counting:
    """Counts the decisions that were really made (not answered from the cache)."""

    def __init__(self, decider: Decider) -> None:
        self.made = 0
        inner = decider.decide

        def decide(req: Request, now: datetime | None = None) -> Answer:
            self.made += 1
            return inner(req, now)

        decider.decide = decide  # type: ignore[method-assign]


def ask(decider: Decider, *lines: str) -> list[str]:
    out: list[bytes] = []
    answer_lines(decider, [b"%d %s" % (i, line.encode()) for i, line in enumerate(lines)], out,
                 Counters(None))
    return [a.decode().split(" ")[1] + " " + _note(a.decode(), "reason") for a in out]


def _note(answer: str, key: str) -> str:
    return next((w.split("=", 1)[1] for w in answer.split() if w.startswith(key + "=")), "")


def https(client: str, host: str) -> str:
    return f"{client} - CONNECT {host}:443 - -"


def http(client: str, host: str, path: str) -> str:
    return f"{client} - GET {host} {path} -"


def test_the_same_request_from_the_same_zone_is_decided_once(tmp_path: Path,
                                                             clock: Clock) -> None:
    decider = _decider(_config(tmp_path), clock)
    ask(decider, https(OTHER_PUPIL, "www.example.org"))  # its zone is learnt with a decision
    counting = Counting(decider)
    assert ask(decider, https(PUPIL, "jeux.example"), https(OTHER_PUPIL, "jeux.example")) == \
        ["ERR category", "ERR category"]
    assert counting.made == 1
    assert ask(decider, https(STAFF, "jeux.example")) == ["OK default"]  # another zone
    assert counting.made == 2


def test_a_refusal_answered_from_the_cache_is_still_recorded(tmp_path: Path,
                                                             clock: Clock) -> None:
    config = _config(tmp_path)
    decider = _decider(config, clock)
    ask(decider, https(OTHER_PUPIL, "www.example.org"))
    counting = Counting(decider)
    ask(decider, https(PUPIL, "vpn.example"))
    clock.advance(seconds=30)
    ask(decider, https(OTHER_PUPIL, "vpn.example"))
    assert counting.made == 1
    decider.flush()
    conn = connect(config.store)
    assert [b.host for b in store.recent_blocks(conn, OTHER_PUPIL, clock.now)] == ["vpn.example"]
    assert [b.at for b in store.recent_blocks(conn, PUPIL, clock.now)] == [MONDAY_10H]


def test_an_opening_is_not_served_past_its_end(tmp_path: Path, clock: Clock) -> None:
    config = _config(tmp_path)
    conn = connect(config.store)
    store.prepare(conn)
    store.add_opening(conn, "jeux.example", "pedago", MONDAY_10H + timedelta(minutes=5),
                      "m.dupont", MONDAY_10H)
    decider = _decider(config, clock)
    ask(decider, https(OTHER_PUPIL, "www.example.org"))
    counting = Counting(decider)
    assert ask(decider, https(PUPIL, "jeux.example")) == ["OK teacher-opening"]
    clock.advance(minutes=4, seconds=59)
    assert ask(decider, https(OTHER_PUPIL, "jeux.example")) == ["OK teacher-opening"]
    assert counting.made == 1  # from the cache until the end...
    clock.advance(seconds=1)
    assert ask(decider, https(OTHER_PUPIL, "jeux.example")) == ["ERR category"]  # ...not after


def test_a_new_opening_or_exception_in_the_store_is_seen(tmp_path: Path, clock: Clock) -> None:
    config = _config(tmp_path)
    decider = _decider(config, clock)
    assert ask(decider, https(PUPIL, "jeux.example")) == ["ERR category"]
    conn = connect(config.store)
    store.add_opening(conn, "jeux.example", "pedago", MONDAY_10H + timedelta(hours=1), "m.d",
                      MONDAY_10H)
    clock.advance(seconds=1)  # the store is checked once a second
    assert ask(decider, https(PUPIL, "jeux.example")) == ["OK teacher-opening"]
    store.set_exception(conn, "wikipedia.org", "block", "admin", clock.now)
    assert ask(decider, https(PUPIL, "fr.wikipedia.org")) == ["OK default"]
    clock.advance(seconds=1)
    assert ask(decider, https(PUPIL, "fr.wikipedia.org")) == ["ERR school-block"]


def test_time_rules_switch_at_their_boundaries(tmp_path: Path, clock: Clock) -> None:
    rules = [{"start": "12:00", "end": "13:30", "action": "allow", "categories": ["games"]}]
    clock.now = MONDAY_10H.replace(hour=11, minute=59, second=59)
    decider = _decider(_config(tmp_path, rules), clock)
    assert ask(decider, https(PUPIL, "jeux.example")) == ["ERR category"]
    clock.advance(seconds=1)
    assert ask(decider, https(OTHER_PUPIL, "jeux.example")) == ["OK default"]
    clock.now = MONDAY_10H.replace(hour=13, minute=29, second=59)
    assert ask(decider, https(PUPIL, "jeux.example")) == ["OK default"]
    clock.advance(seconds=1)
    assert ask(decider, https(PUPIL, "jeux.example")) == ["ERR category"]


def test_a_new_index_and_a_clock_going_back_drop_the_cache(tmp_path: Path,
                                                           clock: Clock) -> None:
    rules = [{"start": "12:00", "end": "13:00", "action": "block", "comment": "midi"}]
    config = _config(tmp_path, rules)
    decider = _decider(config, clock)
    assert ask(decider, https(PUPIL, "nouveau.example")) == ["OK default"]
    config.index.unlink()
    config.index.write_bytes(b"index v2")  # another inode: a new compile
    decider.open_lists = lambda _: Lists({"nouveau.example": {"games"}})
    clock.advance(seconds=1)
    assert ask(decider, https(PUPIL, "nouveau.example")) == ["ERR category"]
    clock.now = MONDAY_10H.replace(hour=12, minute=30)
    assert ask(decider, https(PUPIL, "autre.example")) == ["ERR time-block"]
    clock.now = MONDAY_10H  # NTP stepped the clock back: the 12:30 answer must not stay
    assert ask(decider, https(PUPIL, "autre.example")) == ["OK default"]


def test_a_new_path_on_a_known_host_still_meets_its_url_entries(tmp_path: Path,
                                                               clock: Clock) -> None:
    decider = _decider(_config(tmp_path), clock)
    ask(decider, https(OTHER_PUPIL, "www.example.org"))
    counting = Counting(decider)
    assert ask(decider, http(PUPIL, "wiki.example", "/page")) == ["OK default"]
    assert ask(decider, http(OTHER_PUPIL, "wiki.example", "/autre")) == ["OK default"]
    assert counting.made == 1  # a new path on a known site: only the path was looked at
    # A URL entry under the site in a category the profile does not block, then one it does.
    assert ask(decider, http(PUPIL, "wiki.example", "/triche/maths")) == ["OK default"]
    blocked = Lists({}, {"wiki.example/triche": {"games"}})
    decider2 = _decider(_config(tmp_path / "b"), clock, blocked)
    assert ask(decider2, http(PUPIL, "wiki.example", "/page")) == ["OK default"]
    assert ask(decider2, http(PUPIL, "wiki.example", "/triche/x")) == ["ERR category"]
    assert ask(decider2, http(PUPIL, "wiki.example", "/page2")) == ["OK default"]


@pytest.mark.parametrize(("now", "openings", "expected"), [
    (MONDAY_10H, [], datetime(2026, 11, 23, 12, 0, tzinfo=PARIS)),
    (datetime(2026, 11, 23, 12, 0, tzinfo=PARIS), [], datetime(2026, 11, 23, 13, 30, tzinfo=PARIS)),
    (datetime(2026, 11, 23, 23, 0, tzinfo=PARIS), [], datetime(2026, 11, 24, 0, 0, tzinfo=PARIS)),
    (MONDAY_10H, [datetime(2026, 11, 23, 10, 20, tzinfo=PARIS)],
     datetime(2026, 11, 23, 10, 20, tzinfo=PARIS)),
])
def test_policy_next_change(now: datetime, openings: list[datetime],
                            expected: datetime) -> None:
    filtering = Filtering.model_validate({"profiles": {"eleve": {
        "audience": "pupil", "time_rules": [
            {"start": "12:00", "end": "13:30", "action": "allow", "categories": ["games"]}]}}})
    policy = Policy(filtering, [Opening("a.example", "pedago", u) for u in openings])
    assert policy.next_change(now) == expected


def test_without_time_rules_or_openings_answers_never_expire() -> None:
    policy = Policy(Filtering.model_validate({"profiles": {"eleve": {"audience": "pupil"}}}))
    assert policy.next_change(MONDAY_10H) is None


def test_answers_do_not_outlive_a_session(tmp_path: Path, clock: Clock) -> None:
    from appliance.sessions.identity import Identity

    decider = _decider(_config(tmp_path), clock)
    end = MONDAY_10H + timedelta(minutes=7)
    decider.identity.by_ip = {PUPIL: Identity("p.martin", "enseignant", "portal",
                                              end.timestamp())}
    decider._reset(clock.now)
    assert decider.cache.until == end  # before the next time boundary (none here)
    assert not decider.cache.valid(end)
