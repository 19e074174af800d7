"""Who visited a host, from a packed navigation segment: the busiest hosts' sums, written when
the day is packed (checked against the blocks by verify), and the other hosts' lines in blocks.

The busiest host of a lycée's day is a quarter of a million lines, a Python step each (split,
int, compare, update): most of the question's time. So pack() sums, by (login, IP), every host
with at least SUMMED_FROM lines; those hosts' lines are not read again when the question's day
covers their whole segment, and the other lines are taken apart a block at a time."""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from typing import Any

import zstandard

FIELDS = 8  # seq at ip login host pub port body (packed.encode); the JSON body holds no tab
SUMMED_FROM = 4096  # lines of one host in a day's segment (a block's worth)
SUMS_SCHEMA = """
CREATE TABLE visit_sums (
    host TEXT NOT NULL, login TEXT, ip TEXT, count INTEGER NOT NULL, first INTEGER NOT NULL,
    last INTEGER NOT NULL);
CREATE INDEX visit_sums_by_host ON visit_sums (host)
"""
Totals = dict[tuple[str | None, str | None], list[int]]  # (login, ip) -> [requests, first, last]


def _columns(text: bytes, count: int) -> list[bytes]:
    """Every field of a block's ``count`` lines in one flat list (FIELDS per line, then an
    empty last item), without a Python step per line."""
    fields = text.replace(b"\n", b"\t").split(b"\t")
    if len(fields) == FIELDS * count + 1:
        return fields
    # Not the layout packed.encode writes (a body holding a tab?): line by line, its first
    # five fields as packed.decode splits them.
    out: list[bytes] = []
    for line in text.split(b"\n"):
        parts = line.split(b"\t", FIELDS - 1)
        if len(parts) == FIELDS:
            out += [*parts[:5], b"", b"", b""]
    return [*out, b""]


def _sorted(fields: list[bytes], count: int) -> list[bytes]:
    """A block's fields with its lines in (host, time) order (pack() writes them so; a block
    that is not is still read right)."""
    lines = sorted(range(count),
                   key=lambda n: (fields[FIELDS * n + 4], int(fields[FIELDS * n + 1])))
    out = [field for n in lines for field in fields[FIELDS * n:FIELDS * n + FIELDS]]
    return [*out, b""]


def _from_blocks(conn: sqlite3.Connection, lo: str, hi: str, skip: set[bytes], start: int,
                 end: int, totals: Totals) -> None:
    """Add the lines of the blocks with a host in [lo, hi), not in ``skip``, and a time in
    [start, end) to ``totals``. A block's lines in range are one slice (sorted by host, time):
    one host's slice is summed with counters, a slice of several hosts a line at a time."""
    decompressor = zstandard.ZstdDecompressor()
    first = conn.execute("SELECT id FROM blocks WHERE hi >= ? ORDER BY hi, id LIMIT 1",
                         (lo,)).fetchone()
    if first is None:
        return
    low, high = lo.encode(), hi.encode()
    for block_lo, block_hi, count, data in conn.execute(
            "SELECT lo, hi, count, data FROM blocks WHERE id >= ? ORDER BY id", (first[0],)):
        if block_lo > hi:
            break
        if block_lo == block_hi and block_lo.encode() in skip:
            continue  # one summed host's lines only
        fields = _columns(decompressor.decompress(bytes(data)), count)
        count = len(fields) // FIELDS  # the lines read (a block's count, unless damaged)
        times = list(map(int, fields[1::FIELDS]))
        if not count or max(times) < start or min(times) >= end:
            continue  # e.g. the evening before a school's day, in UTC
        hosts = fields[4::FIELDS]
        if hosts != sorted(hosts):
            fields = _sorted(fields, count)
            times, hosts = list(map(int, fields[1::FIELDS])), fields[4::FIELDS]
        at = bisect_left(hosts, low)
        stop = bisect_left(hosts, high, at)
        if at == stop:
            continue
        ips = fields[FIELDS * at + 2:FIELDS * stop:FIELDS]
        logins = fields[FIELDS * at + 3:FIELDS * stop:FIELDS]
        if hosts[at] == hosts[stop - 1]:
            if hosts[at] not in skip:
                _one_host(times[at:stop], ips, logins, start, end, totals)
            continue
        for host, when, ip, login in zip(hosts[at:stop], times[at:stop], ips, logins,
                                         strict=True):
            if start <= when < end and host not in skip:
                # Empty columns stand for None, as packed.decode reads them.
                _add(totals, (login.decode() or None, ip.decode() or None), 1, when, when)


def _one_host(times: list[int], ips: list[bytes], logins: list[bytes], start: int, end: int,
              totals: Totals) -> None:
    """Add one host's lines of a block (in time order) to ``totals``, without a Python step
    per line: the lines in [start, end) are a slice; counts from ``Counter``, the first and
    last time of each (login, IP) from ``dict(zip())``, where the latest assignment wins."""
    if times != sorted(times):  # never from pack(); pairs kept together
        rows = sorted(zip(times, ips, logins, strict=True))
        times, ips, logins = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    a, b = bisect_left(times, start), bisect_left(times, end)
    times = times[a:b]
    keys = list(zip(logins[a:b], ips[a:b], strict=True))
    firsts = dict(zip(reversed(keys), reversed(times), strict=True))
    lasts = dict(zip(keys, times, strict=True))
    for (login, ip), count in Counter(keys).items():
        _add(totals, (login.decode() or None, ip.decode() or None), count,
             firsts[(login, ip)], lasts[(login, ip)])


def write_sums(conn: sqlite3.Connection) -> None:
    """Sum the busiest hosts' rows of a navigation segment being packed (in pack()'s
    transaction, before its rows go)."""
    for statement in filter(str.strip, SUMS_SCHEMA.split(";")):
        conn.execute(statement)
    # Empty columns as None, as the packed lines read them back (packed.normal_index).
    conn.execute("INSERT INTO visit_sums SELECT host, nullif(login, ''), nullif(ip, ''), "
                 "count(*), min(at), max(at) FROM records WHERE host IN (SELECT host FROM "
                 "records WHERE host IS NOT NULL AND host != '' GROUP BY host "
                 "HAVING count(*) >= ?) GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", (SUMMED_FROM,))


def _sums(conn: sqlite3.Connection, lo: str, hi: str) -> dict[str, list[tuple[Any, ...]]]:
    """The sums of the hosts in [lo, hi) (none in a segment packed before they were written)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'visit_sums'").fetchone() is None:
        return {}
    found: dict[str, list[tuple[Any, ...]]] = {}
    for host, *row in conn.execute("SELECT host, login, ip, count, first, last FROM visit_sums "
                                   "WHERE host >= ? AND host < ?", (lo, hi)):
        found.setdefault(host, []).append(tuple(row))
    return found


def _add(totals: Totals, key: tuple[str | None, str | None], count: int, first: int,
         last: int) -> None:
    seen = totals.get(key)
    if seen is None:
        totals[key] = [count, first, last]
    else:
        seen[0] += count
        seen[1], seen[2] = min(seen[1], first), max(seen[2], last)


def visit_totals(conn: sqlite3.Connection, lo: str, hi: str, start: int, end: int,
                 totals: Totals) -> None:
    """Add to ``totals`` the navigation lines of a packed segment with a host in [lo, hi) and
    a time in [start, end) (microseconds): their count, first and last time by (login, IP)."""
    summed = set()  # hosts whose lines need not be read
    for host, rows in _sums(conn, lo, hi).items():
        if all(start <= first and last < end for _, _, _, first, last in rows):
            summed.add(host.encode())
            for login, ip, count, first, last in rows:
                _add(totals, (login, ip), count, first, last)
        elif all(last < start or first >= end for _, _, _, first, last in rows):
            summed.add(host.encode())  # none of its lines in the span
    _from_blocks(conn, lo, hi, summed, start, end, totals)


def check_sums(conn: sqlite3.Connection, problem: Callable[[str], object]) -> None:
    """Say if the sums of a packed navigation segment differ from its blocks' lines."""
    for host, rows in _sums(conn, "", "\U0010ffff").items():
        found: Totals = {}
        _from_blocks(conn, host, host + "\0", set(), -1, 1 << 62, found)
        stored = {(login, ip): [count, first, last] for login, ip, count, first, last in rows}
        if found != stored:
            problem(f"the visit sums of {host} differ from the blocks' records")
