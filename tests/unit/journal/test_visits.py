"""The "who visited" sums over packed blocks (appliance/journal/visits.py) equal a plain count
line by line: hosts across block edges, times outside the day, empty logins, and blocks that
pack() never writes (unsorted, a body holding a tab) read line by line; the busiest hosts' sums
written by pack() answer alike and are checked by verify."""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import zstandard

from appliance.journal import packed, query, segment, visits
from appliance.journal.seal import pack_due
from appliance.journal.verify import verify
from tests.unit.journal.conftest import DAY0
from tests.unit.journal.test_packed import DAY, _journal

pytestmark = pytest.mark.unit
HOSTS = ["com.google", "com.google.mail", "com.google.www", "com.googlex", "fr.site"]


def _lines(rng: random.Random, count: int) -> list[tuple[str, int, str, str]]:
    """(host, at, ip, login) lines, sorted as pack() sorts them (host, time)."""
    out = [(rng.choice(HOSTS), rng.randrange(100, 200), f"10.0.0.{rng.randrange(6)}",
            rng.choice(["", "u1", "u2", "u3"])) for _ in range(count)]
    return sorted(out, key=lambda line: (line[0], line[1]))


def _store(blocks: list[list[tuple[str, int, str, str]]], body: str = '{"x":1}'
           ) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.executescript(packed.PACK_SCHEMA)
    compressor = zstandard.ZstdCompressor()
    for number, block in enumerate(blocks, 1):
        text = "\n".join(packed.encode(seq, at, (ip, login or None, host, None, None), body)
                         for seq, (host, at, ip, login) in enumerate(block, 1)) + "\n"
        conn.execute("INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?)",
                     (number, min(b[0] for b in block), max(b[0] for b in block), len(block),
                      b"", compressor.compress(text.encode())))
    return conn


def _expected(lines: list[tuple[str, int, str, str]], lo: str, hi: str, start: int,
              end: int) -> visits.Totals:
    out: visits.Totals = {}
    for host, at, ip, login in lines:
        if lo <= host < hi and start <= at < end:
            seen = out.setdefault((login or None, ip), [0, at, at])
            seen[0] += 1
            seen[1], seen[2] = min(seen[1], at), max(seen[2], at)
    return out


@pytest.mark.parametrize("mangle", ["none", "unsorted", "tab in body"])
def test_sums_equal_a_count_line_by_line(mangle: str) -> None:
    rng = random.Random(4)
    lines = _lines(rng, 900)
    blocks = [lines[i:i + 64] for i in range(0, len(lines), 64)]
    if mangle == "unsorted":
        for block in blocks:
            rng.shuffle(block)
    conn = _store(blocks, '{"x":"a\tb"}' if mangle == "tab in body" else '{"x":1}')
    for lo, hi in (("com.google", "com.google/"), ("com.google.www", "com.google.www\0"),
                   ("com.google.mail", "com.google.mail/"), ("fr.site", "fr.site/"),
                   ("org.none", "org.none/")):
        for start, end in ((0, 1000), (120, 180), (150, 151)):
            totals: visits.Totals = {}
            visits.visit_totals(conn, lo, hi, start, end, totals)
            assert totals == _expected(lines, lo, hi, start, end), (lo, start, end)


def test_the_busiest_hosts_are_summed_when_packed(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Summed hosts answer as their rows did, whole day or not (another time zone's day
    covers part of the segment: then their lines are read), and verify checks the sums."""
    root = tmp_path / "j"
    _journal(root)
    zones = ("UTC", "America/Cayenne", "Pacific/Kiritimati")  # the last: part of the segment
    asked = [(host, zone, sub) for host in ("site0.fr", "h3.site3.fr", "fr", "h0.site0.fr")
             for zone in zones for sub in (True, False)]

    def answers() -> list[object]:
        return [query.visited(root, host, DAY, zone=zone, subdomains=sub)
                for host, zone, sub in asked]

    before = answers()
    monkeypatch.setattr(visits, "SUMMED_FROM", 5)  # 85 hosts of 4 or 5 lines: some summed
    monkeypatch.setattr(packed, "BLOCK_RECORDS", 16)
    pack_due(root, now=DAY0 + timedelta(days=3))
    path = segment.segment_path(root, "navigation", DAY)
    with sqlite3.connect(path) as conn:
        summed = conn.execute("SELECT count(DISTINCT host) FROM visit_sums").fetchone()[0]
    assert 10 < summed < 85
    assert answers() == before
    assert verify(root).ok
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE visit_sums SET count = count + 1 WHERE rowid = 1")
    report = verify(root)
    assert not report.ok
    assert any("visit sums of" in text for text in report.problems), report.problems
