"""The compiled lane answers exactly as Python does: the same request lines, on the real UT1
subset, through a helper with the lane and one without, give the same answers line by line and
record the same refusals; and the lane finds the same categories as the index for any host."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import marisa_trie  # type: ignore[import-not-found]  # no stubs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.render.layout import Layout
from appliance.sessions import store as sessions
from appliance.sessions.store import Method
from appliance.site import load_site
from appliance.state import connect
from filtering import store
from filtering.config import FilterConfig, render_config
from filtering.decide import Decider
from filtering.fastpath import FastLane, native_module
from filtering.helper import open_index, serve
from filtering.index import Index
from filtering.policy import relevant_categories
from filtering.refusals import LISTED_PER_CLIENT

pytestmark = pytest.mark.unit

SITE = Path(__file__).resolve().parents[3] / "examples" / "site.yaml"
PARIS = ZoneInfo("Europe/Paris")
MONDAY_10H = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
# Zone pedago (eleve); enough of them that none reaches LISTED_PER_CLIENT new refusals in one
# flush, so that both helpers list the same ones (the limit is tested on its own).
PUPILS = [f"10.30.{i // 250}.{i % 250 + 2}" for i in range(400)]
STAFF = [f"10.20.{i % 2}.{60 + i}" for i in range(10)]
GUESTS = [f"10.40.0.{9 + i}" for i in range(5)]
UNFILTERED = ["10.99.0.150"]
TEACHER_ON_PUPIL_PC = PUPILS[3]  # a session with the teacher's profile on a pupils' address


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY_10H

    def __call__(self) -> datetime:
        return self.now


class PythonOnly:
    """The same index without its lane: the helper then decides every line in Python."""

    def __init__(self, index: object) -> None:
        self._index = index

    def __getattr__(self, name: str) -> Any:
        if name == "fast_lane":
            raise AttributeError(name)
        return getattr(self._index, name)


def _entries(root: Path, category: str, kind: str, n: int, rng: random.Random) -> list[str]:
    path = root / "blacklists" / category / kind
    if not path.is_file():
        return []
    lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace")
             .splitlines() if line.strip() and not line.startswith("#")]
    return rng.sample(lines, min(n, len(lines)))


def _targets(root: Path, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """(method, host, path, sni) of varied requests: listed domains and their subdomains, URL
    entries and paths under them, expression matches, odd spellings, names nobody lists."""
    domains = [d for cat in ("games", "adult", "publicite", "redirector", "shopping", "child",
                             "vpn", "doh", "social_networks", "liste_blanche")
               for d in _entries(root, cat, "domains", 40, rng)]
    urls = [u for cat in ("games", "malware", "phishing", "adult", "drogue")
            for u in _entries(root, cat, "urls", 40, rng)]
    plain = [f"site{i}.example.org" for i in range(60)] + ["www.education.gouv.fr", "ent.fr"]
    out: list[tuple[str, str, str, str]] = []
    for host in domains + plain:
        out += [("GET", host, "/", "-"), ("GET", f"www.{host}", "/index.html", "-"),
                ("CONNECT", f"{host}:443", "-", "-"), ("CONNECT", "198.18.1.1", "-", host),
                ("GET", host.upper(), "/banner/ad.gif", "-"),
                ("GET", f"cdn.{host}:8080", "/a%20b?q=1", "-")]
    for url in urls:
        host, _, path = url.partition("/")
        out += [("GET", host, "/" + path, "-"), ("GET", host, f"/{path}/deeper", "-"),
                ("GET", f"www.{host}", "/" + path, "-"), ("CONNECT", f"{host}:443", "-", "-")]
    for url in urls[:40]:  # their hosts as odd names: with www., a final dot, in upper case
        host, _, path = url.partition("/")
        out += [("GET", f"www.{host}", "/" + path, "-"), ("GET", f"{host}..", "/" + path, "-"),
                ("CONNECT", f"{host.upper()}.:443", "-", "-")]
    out += [("GET", h, "/arm6", "-") for h in ("1.2.3", "01.2.3.4", "256.1.1.1", "1.192.0.2.7",
                                                 "host.abc1", "10.0.0.1", "0.0.0.0", "x.1")]
    out += [("GET", "192.0.2.7", "/", "-"), ("GET", "example.com.", "/", "-"),
            ("GET", "caf%C3%A9.fr", "/", "-"), ("GET", "xn--caf-dma.fr", "/%E9t%E9", "-"),
            ("GET", "[2001:db8::1]", "/", "-"), ("GET", "a..b.fr", "/", "-"),
            ("GET", "jeux.example.org", "/%2Fbanner%2F", "-"), ("GET", "-", "-", "-")]
    return out


def _lines(targets: list[tuple[str, str, str, str]], rng: random.Random, n: int) -> list[bytes]:
    clients = PUPILS + STAFF + GUESTS + UNFILTERED * 5
    lines = []
    for _ in range(n):
        method, host, path, sni = rng.choice(targets)
        lines.append(f"{rng.choice(clients)} - {method} {host} {path} {sni}".encode())
    lines += [b"", b"10.30.0.2  - GET double.space / -", b"10.30.0.2 - GET short",
              b"10.30.0.2 - GET tab.fr\t/ -", b"10.30.0.2 - GET args.fr / - extra -"]
    return lines


@pytest.fixture(scope="module")
def helpers(ut1_subset: Path, ut1_index: Path,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """Two helpers' (decider, clock, config) on the real subset: one with the lane, one not."""
    made = []
    for with_lane in (True, False):
        root = tmp_path_factory.mktemp("lane" if with_lane else "python")
        path = root / "filtering.json"
        path.write_text(render_config(load_site(SITE), Layout.in_tree(root)), encoding="utf-8")
        config = FilterConfig.load(path)
        config.index.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ut1_index, config.index)
        conn = sessions.open_store(config.store)
        sessions.start(conn, method=Method.PORTAL, login="prof.lab", profile="enseignant",
                       ip=TEACHER_ON_PUPIL_PC, mac=None, zone="pedago",
                       now=MONDAY_10H.timestamp(), idle_timeout=900, lifetime=8 * 3600)
        conn.close()
        clock = Clock()
        opener = open_index if with_lane else (lambda p: PythonOnly(open_index(p)))
        made.append((Decider(config, opener, clock=clock), clock, config))
    yield made[0], made[1]
    for decider, _, _ in made:
        decider.close()


def _run(decider: Decider, lines: list[bytes], start: int) -> dict[bytes, bytes]:
    """Each line's answer by channel id, fed 100 lines at a time as a busy Squid would."""
    numbered = [b"%d %s\n" % (start + i, line) for i, line in enumerate(lines)]
    chunks = [b"".join(numbered[i:i + 100]) for i in range(0, len(numbered), 100)] + [b""]
    out: list[bytes] = []
    serve(decider, lambda _n: chunks.pop(0), out.append)
    answers = {}
    for answer in b"".join(out).splitlines():
        channel, _, rest = answer.partition(b" ")
        assert channel not in answers, f"two answers for channel {channel!r}"
        answers[channel] = rest
    return answers


def _refusals(config: FilterConfig) -> list[tuple[str, ...]]:
    conn = connect(config.store)
    rows = conn.execute("SELECT client, host, category, reason, profile, at "
                        "FROM filter_recent_blocks ORDER BY client, host").fetchall()
    conn.close()
    return [tuple(r) for r in rows]


def test_the_lane_is_built_here(ut1_index: Path) -> None:
    """The compiled module is part of the product: CI must build it."""
    assert native_module() is not None
    with Index.open(ut1_index) as index:
        assert isinstance(index.fast_lane(frozenset({"games", "adult"})), FastLane)


def test_lane_and_python_answer_alike(ut1_subset: Path, helpers: tuple[Any, Any]) -> None:
    rng = random.Random(7)
    targets = _targets(ut1_subset, rng)
    (lane, lane_clock, lane_config), (python, python_clock, python_config) = helpers
    counted: list[int] = []
    native_answer = lane.lane.answer

    def spy(batch: bytes) -> tuple[bytes, list[bytes], dict[int, int]]:
        result: tuple[bytes, list[bytes], dict[int, int]] = native_answer(batch)
        counted.append(sum(result[2].values()))
        return result

    lane.lane.answer = spy
    first = _lines(targets, rng, 6000)
    assert _run(lane, first, 0) == _run(python, first, 0)
    # The school blocks a domain some requests go to, allows another: the lane must not keep
    # answering them as before (the store changed; the policy names those hosts now).
    blocked, allowed = targets[0][1], targets[6][1].removeprefix("www.")
    for clock, config in ((lane_clock, lane_config), (python_clock, python_config)):
        conn = connect(config.store)
        store.set_exception(conn, blocked, "block", "referent", clock.now)
        store.set_exception(conn, allowed, "allow", "referent", clock.now)
        conn.close()
        clock.now += timedelta(seconds=2)  # the store is looked at once a second
    second = _lines(targets, rng, 6000)
    got = _run(lane, second, len(first))
    assert got == _run(python, second, len(first))
    assert any(b"reason=school-block" in a for a in got.values())
    # The lane did most of the work, and both recorded the same refusals.
    assert sum(counted) > 0.6 * (len(first) + len(second))
    lane.flush()
    python.flush()
    refusals = _refusals(lane_config)
    assert refusals and refusals == _refusals(python_config)
    assert any(r[0] == PUPILS[0] for r in refusals)


def test_identified_user_keeps_their_own_answers(helpers: tuple[Any, Any]) -> None:
    (lane, _, _), _ = helpers
    answers = _run(lane, [f"{TEACHER_ON_PUPIL_PC} - GET jeuxvideo.com / -".encode(),
                          f"{PUPILS[0]} - GET jeuxvideo.com / -".encode()] * 3, 100_000)
    teacher = {a for c, a in answers.items() if int(c) % 2 == 0}
    pupil = {a for c, a in answers.items() if int(c) % 2 == 1}
    assert len(teacher) == 1 and len(pupil) == 1
    mine, theirs = teacher.pop(), pupil.pop()
    assert b"profile=enseignant" in mine and b"user=prof.lab" in mine
    assert b"profile=eleve" in theirs and b"user=" not in theirs


def test_a_device_lists_a_page_of_refusals_a_second(ut1_subset: Path,
                                                     helpers: tuple[Any, Any]) -> None:
    """One device asking for many blocked hosts at once: every request is refused, the first
    LISTED_PER_CLIENT new hosts of the interval reach its list, the rest are counted."""
    (lane, clock, config), _ = helpers
    rng = random.Random(3)
    blocked = _entries(ut1_subset, "games", "domains", 60, rng)
    device = "10.30.3.200"
    clock.now += timedelta(seconds=2)
    lane.flush()
    lines = [f"{device} - CONNECT {host}:443 - -".encode() for host in blocked * 2]
    answers = _run(lane, lines, 200_000)
    assert len(answers) == len(lines) == 120
    assert all(a.startswith(b"ERR ") for a in answers.values())
    lane.flush()
    listed = [r for r in _refusals(config) if r[0] == device]
    assert 0 < len(listed) <= 2 * LISTED_PER_CLIENT  # the lane's and Python's, one each
    assert len(listed) < len(set(blocked)) == 60  # the limit held


@pytest.mark.parametrize("which", [0, 1], ids=["lane", "python"])
def test_a_session_that_ends_takes_its_rights_from_that_address_only(
        helpers: tuple[Any, Any], which: int) -> None:
    decider, clock, config = helpers[which]
    first, second = "10.30.2.10", "10.30.2.11"  # two devices of one teacher, pupils' zone
    conn = sessions.open_store(config.store)
    for ip, lifetime in ((first, 60), (second, 8 * 3600)):
        sessions.start(conn, method=Method.PORTAL, login="prof.two", profile="enseignant",
                       ip=ip, mac=None, zone="pedago", now=clock.now.timestamp(),
                       idle_timeout=900, lifetime=lifetime)
    conn.close()
    clock.now += timedelta(seconds=2)
    lines = [f"{ip} - GET jeuxvideo.com / -".encode() for ip in (first, second)] * 3
    before = _run(decider, lines, 300_000 + 10 * which)
    assert all(b"user=prof.two" in a for a in before.values())
    clock.now += timedelta(seconds=61)  # the first device's session reaches its end
    after = _run(decider, lines, 400_000 + 10 * which)
    for channel, answer in after.items():
        mine = (int(channel) - 400_000 - 10 * which) % 2 == 1
        assert (b"user=prof.two" in answer) == mine, (channel, answer)


_FIELD = st.one_of(
    st.sampled_from(["-", "GET", "CONNECT", "jeuxvideo.com", "WWW.JeuxVideo.com:443", "/",
                     "/%2e%2E/x", "/banner/", "%", "%zz", "caf%C3%A9.fr", "198.18.1.1",
                     "10.30.0.2", "10.20.0.60", "a..b", "x.fr.", "[::1]:443", "\u00e9t\u00e9"]),
    st.text(alphabet="abc.-%:/_ \t0123456789\u00e9", max_size=12))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.lists(_FIELD, min_size=0, max_size=9), min_size=1, max_size=20))
def test_any_line_gets_the_same_answer_from_both(helpers: tuple[Any, Any],
                                                 lines: list[list[str]]) -> None:
    """Whatever Squid (or anything writing to the helper's input) sends."""
    (lane, _, _), (python, _, _) = helpers
    encoded = [" ".join(fields).encode() for fields in lines]
    assert _run(lane, encoded, 500_000) == _run(python, encoded, 500_000)


def test_the_lane_refuses_what_is_not_an_index() -> None:
    module = native_module()
    assert module is not None
    trie = memoryview(marisa_trie.Trie(["com.example."]).tobytes())
    sets = memoryview(b"\0\0")
    one = [(0, len(trie), 0, 2)]
    bad = memoryview(b"not a trie at all, not at all")
    with pytest.raises(ValueError, match="marisa"):
        module.FastPath(bad, sets, trie, sets, [1], [], [(0, len(bad), 0, 2)])
    with pytest.raises(ValueError, match="does not compile"):
        module.FastPath(trie, sets, trie, sets, [1], [("(unclosed", 1)], one)
    with pytest.raises(ValueError, match="outside its section"):
        module.FastPath(trie, sets, trie, sets, [1], [], [(0, len(trie) + 8, 0, 2)])
    with pytest.raises(ValueError, match="no domain shard"):
        module.FastPath(trie, sets, trie, sets, [1], [], [])
    lane = module.FastPath(trie, sets, trie, sets, [1], [("ban+er", 2)], one)
    assert lane.categories("www.example.com", "/") == 1
    assert lane.categories("example.org", "/banner/") == 2
    lane.close()
    with pytest.raises(ValueError, match="closed"):
        lane.answer(b"1 10.30.0.2 - GET example.com / -\n")


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=8)


@pytest.fixture(scope="module")
def lane_and_index(ut1_index: Path) -> Iterator[tuple[FastLane, Index, list[str]]]:
    relevant = relevant_categories(load_site(SITE).filtering)
    with Index.open(ut1_index) as index:
        index.consider(relevant)
        lane = index.fast_lane(relevant)
        assert lane is not None
        listed = [key for key, _ in zip(index._domains[0].iterkeys(), range(20_000), strict=False)]
        names = [".".join(k[:-1].split(".")[::-1]) for k in listed]
        yield lane, index, names


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_lane_finds_the_index_categories(data: st.DataObject,
                                         lane_and_index: tuple[FastLane, Index, list[str]]
                                         ) -> None:
    lane, index, names = lane_and_index
    base = data.draw(st.sampled_from(names))
    prefix = data.draw(st.lists(_LABEL, max_size=2))
    host = ".".join([*prefix, base])
    path = data.draw(st.sampled_from(["", "/", "/banner/x.gif", "/search?q=cache:x",
                                      "/a/b", "/ymsgr.exe"]))
    if data.draw(st.booleans()):  # an address, or a name ending in digits
        host = data.draw(st.sampled_from([host + ".7", "192.0.2.7", "1.192.0.2.7", "01.2.3.4",
                                          f"{host}.abc1", "999.1.1.1"]))
    found = lane.native.categories(host, path)
    if found is None:  # a name the lane leaves to Python
        return
    expected = index.lookup(host, path or None) & frozenset(lane.bits)
    assert found == lane.mask(expected), (host, path)
