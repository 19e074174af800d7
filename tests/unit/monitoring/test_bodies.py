"""Answers made ahead of scrapes: a scrape gets the last one made while it is young enough, a new
value shows once the maker has run, a scrape during a making gets the whole previous answer, and
each negotiated format (content type, gzip) is made and served as asked."""

from __future__ import annotations

import gzip
import json
import threading
import time
from pathlib import Path

import pytest

from monitoring.bodies import Bodies
from monitoring.exposition import MetricsApp
from monitoring.probes.results import Check, to_doc
from tests.unit.monitoring.test_exposition import (
    NOW,
    OPENMETRICS,
    block,
    call,
    collector,
    setup,
)

pytestmark = pytest.mark.unit
TEXT = "text/plain; version=0.0.4; charset=utf-8"


class Source:
    """A render function over a value the test changes, counting its calls."""

    def __init__(self) -> None:
        self.value, self.calls = "one", 0

    def __call__(self, content_type: str) -> bytes:
        self.calls += 1
        return f"{content_type} {self.value}\n".encode()


def test_a_scrape_gets_the_answer_made_ahead_until_it_is_too_old() -> None:
    now = [100.0]
    source = Source()
    bodies = Bodies(source, refresh=2, max_age=5, idle_after=60, clock=lambda: now[0])
    assert bodies.get(TEXT, False) == f"{TEXT} one\n".encode()  # nothing made yet: made now
    source.value = "two"
    now[0] += 4
    assert bodies.get(TEXT, False) == f"{TEXT} one\n".encode()  # young enough: no reading
    assert source.calls == 1
    bodies.make()  # the maker's round
    assert bodies.get(TEXT, False) == f"{TEXT} two\n".encode()
    source.value = "three"
    now[0] += 5.5  # the maker did not come back in time: the scrape reads itself
    assert bodies.get(TEXT, False) == f"{TEXT} three\n".encode()
    assert source.calls == 3


def test_sparse_scrapes_get_one_making_each_just_before_they_come() -> None:
    now = [100.0]
    source = Source()
    bodies = Bodies(source, refresh=3, max_age=10, idle_after=600, clock=lambda: now[0])
    bodies.get(TEXT, True)
    bodies.make()
    assert bodies.due() == 103  # no interval known yet: every refresh
    now[0] = 115.0
    bodies.get(TEXT, True)  # 15 s old: made by the scrape itself
    assert bodies.due() == 129  # one second before the next scrape expected
    now[0], source.value = 129.0, "two"
    bodies.make()
    assert bodies.due() == 144  # made for the scrape at 130: next for the one at 145
    source.value, calls = "three", source.calls
    now[0] = 130.0
    assert gzip.decompress(bodies.get(TEXT, True)) == f"{TEXT} two\n".encode()  # 1 s old
    assert source.calls == calls
    for _ in range(8):  # scrapes every half second: back to a making every refresh
        now[0] += 0.5
        bodies.get(TEXT, True)
    assert bodies.due() == 132


def test_frequent_scrapes_get_the_making_just_after_one_of_them() -> None:
    scrapes: list[float] = []
    makings: list[float] = []

    def render(content_type: str) -> bytes:
        makings.append(time.monotonic())
        return b"x\n"

    bodies = Bodies(render, refresh=0.05, max_age=5, idle_after=60, settle=0.03)
    bodies.start()
    for _ in range(8):
        scrapes.append(time.monotonic())
        bodies.get(TEXT, False)
        time.sleep(0.25)
    # Until a second scrape the interval is unknown: the maker goes by its timer.
    by_maker = [t for t in makings if t > scrapes[1]]
    assert 3 <= len(by_maker) <= len(scrapes) - 1  # a timer alone would make 5 per scrape
    for made in by_maker:
        last = max(t for t in scrapes if t <= made)
        assert made - last >= 0.03  # after the scrape's answer, never right on it


def test_each_format_is_made_and_zipped_as_asked() -> None:
    source = Source()
    bodies = Bodies(source, refresh=2, max_age=5, idle_after=60)
    zipped = bodies.get(TEXT, True)
    plain = bodies.get(TEXT, False)
    other = bodies.get("application/openmetrics-text", True)
    assert gzip.decompress(zipped) == plain == f"{TEXT} one\n".encode()
    assert gzip.decompress(other) == b"application/openmetrics-text one\n"
    source.value, calls = "two", source.calls
    bodies.make()
    assert source.calls == calls + 2  # one reading per content type, zipped or not
    assert gzip.decompress(bodies.get(TEXT, True)) == bodies.get(TEXT, False) == \
        f"{TEXT} two\n".encode()


def test_a_scrape_during_a_making_gets_the_whole_previous_answer() -> None:
    inside, release = threading.Event(), threading.Event()
    parts = ["a1", "b1"]

    def render(content_type: str) -> bytes:
        first = parts[0]
        if first != "a1":  # the second making stops half-way until the test lets it go
            inside.set()
            release.wait(10)
        return f"{first} {parts[1]}\n".encode()

    bodies = Bodies(render, refresh=2, max_age=60, idle_after=600)
    assert bodies.get(TEXT, True) and bodies.get(TEXT, False) == b"a1 b1\n"
    parts[0] = "a2"
    maker = threading.Thread(target=bodies.make)
    maker.start()
    try:
        assert inside.wait(10)
        parts[1] = "b2"
        assert bodies.get(TEXT, False) == b"a1 b1\n"
        assert gzip.decompress(bodies.get(TEXT, True)) == b"a1 b1\n"
    finally:
        release.set()
        maker.join(10)
    assert bodies.get(TEXT, False) == b"a2 b2\n"
    assert gzip.decompress(bodies.get(TEXT, True)) == b"a2 b2\n"


def test_the_maker_sleeps_when_nobody_scrapes_and_a_scrape_wakes_it() -> None:
    source = Source()
    bodies = Bodies(source, refresh=0.01, max_age=0.05, idle_after=0.2)
    bodies.get(TEXT, False)
    bodies.start()
    time.sleep(0.6)  # past idle_after: the maker stopped
    calls = source.calls
    assert calls >= 3  # it made answers while the scrape was recent
    time.sleep(0.3)
    assert source.calls == calls
    source.value = "two"
    assert bodies.get(TEXT, False) == f"{TEXT} two\n".encode()  # too old: made by the scrape
    deadline = time.monotonic() + 5
    while source.calls < calls + 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.calls >= calls + 2  # the maker is back


def test_the_exporter_serves_a_new_probe_result_once_the_maker_ran(tmp_path: Path) -> None:
    now = NOW
    paths, results = setup(tmp_path, now)
    # max_age is long: without the maker, scrapes would serve the first answer for a minute.
    app = MetricsApp(collector(paths), block(results, paths.uai),
                     refresh=0.05, max_age=60)
    status, headers, first = call(app, OPENMETRICS, "gzip")
    assert status == "200 OK" and headers["Content-Encoding"] == "gzip"
    assert b'carine_probe_success{check="dns",path="upstream",service="gar"' in first
    results.write_text(json.dumps(to_doc(
        [Check("new", "new.example", "dns", "appliance", True, now, 60, duration=0.001)],
        None, now)))
    assert call(app, OPENMETRICS, "gzip")[2] == first  # not read at scrape time
    app.start()
    deadline = time.monotonic() + 10
    body = first
    while body == first and time.monotonic() < deadline:
        time.sleep(0.01)
        body = call(app, OPENMETRICS, "gzip")[2]
    assert b'service="new",target="new.example"' in body and b'service="gar"' not in body
    assert body.endswith(b"\n# EOF\n") and body.count(b"# EOF") == 1


@pytest.mark.parametrize(("accept", "encoding", "content_type", "zipped"), [
    (OPENMETRICS, "gzip", "application/openmetrics-text; version=1.0.0; charset=utf-8; "
     "escaping=underscores", True),
    (OPENMETRICS, None, "application/openmetrics-text; version=1.0.0; charset=utf-8; "
     "escaping=underscores", False),
    (None, "gzip, deflate", TEXT, True),
    ("text/plain;version=0.0.4", "identity", TEXT, False),
])
def test_formats_and_gzip_are_negotiated(tmp_path: Path, accept: str | None,
                                         encoding: str | None, content_type: str,
                                         zipped: bool) -> None:
    paths, results = setup(tmp_path, NOW)
    app = MetricsApp(collector(paths), block(results, paths.uai))
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    environ = {"REQUEST_METHOD": "GET"}
    if accept:
        environ["HTTP_ACCEPT"] = accept
    if encoding:
        environ["HTTP_ACCEPT_ENCODING"] = encoding
    raw = b"".join(app(environ, lambda status, headers: seen.append((status, headers))))  # type: ignore[arg-type]
    headers = dict(seen[0][1])
    assert headers["Content-Type"] == content_type
    assert headers["Content-Length"] == str(len(raw))
    assert ("Content-Encoding" in headers) is zipped
    body = gzip.decompress(raw) if zipped else raw
    assert body.startswith(b"# HELP carine_") and b"carine_probe_success{" in body
    assert body.endswith(b"# EOF\n") is content_type.startswith("application/openmetrics")
    assert set(app.bodies.made) == {(content_type, zipped)}  # made ahead from now on


def test_an_escaping_scheme_is_answered_at_scrape_time(tmp_path: Path) -> None:
    paths, results = setup(tmp_path, NOW)
    app = MetricsApp(collector(paths), block(results, paths.uai))
    status, headers, body = call(app, "text/plain;version=1.0.0;escaping=dots", "gzip")
    assert status == "200 OK" and "escaping=dots" in headers["Content-Type"]
    assert b"carine__probe__success{" in body  # renamed by prometheus_client, as asked
    assert app.bodies.made == {}
