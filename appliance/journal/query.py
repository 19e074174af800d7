"""The judicial questions: who had an IP (internal, or public with its port) at a time, who
visited a host on a day. Each looks only at the few segments and index ranges it needs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance.journal import packed, segment, visits
from appliance.journal.records import Record, day_of, from_micros, to_micros

LOOKBACK_DAYS = 31  # a session (a registered printer's) may have started weeks before T
NAT_WINDOW = timedelta(hours=2)  # a connection's public port is looked for up to this long before T


def _open(root: Path, kind: str, day: date) -> sqlite3.Connection | None:
    path = segment.segment_path(root, kind, day)
    return segment.connect(path, kind, day, create=False) if path.exists() else None


def _hit(kind: str, row: tuple[Any, ...]) -> dict[str, Any]:
    record = Record(kind, row[0], row[1], row[2])
    return {"kind": kind, "seq": record.seq, "at": record.time().isoformat(),
            **record.fields()}


def session_at(root: Path, ip: str, at: datetime) -> dict[str, Any] | None:
    """The last session event for ``ip`` at or before ``at``: a start means it was theirs."""
    when = to_micros(at)
    day = day_of(when) + timedelta(days=1)  # late records land in the next day's segment
    best: tuple[Any, ...] | None = None
    for _ in range(LOOKBACK_DAYS + 1):
        conn = _open(root, "session", day)
        if conn is not None:
            row = conn.execute("SELECT seq, at, body FROM records WHERE ip = ? AND at <= ? "
                               "ORDER BY at DESC, seq DESC LIMIT 1", (ip, when)).fetchone()
            if packed.is_packed(conn):
                found = [(r.at, r.seq, r.body) for r, _ in packed.records(conn, "session", ip, ip)
                         if r.at <= when]
                if found:
                    last = max(found)
                    if row is None or (last[0], last[1]) > (row[1], row[0]):
                        row = (last[1], last[0], last[2])
            conn.close()
            if row is not None and (best is None or row[1] > best[1]):
                best = row
        if best is not None and from_micros(best[1]).date() > day:
            break
        day -= timedelta(days=1)
    if best is None:
        return None
    hit = _hit("session", best)
    hit["holds"] = hit.get("event") != "end"
    return hit


def nat_at(root: Path, public_ip: str, port: int | None, at: datetime) -> list[dict[str, Any]]:
    """NAT records for ``public_ip`` (and ``port``) that started in the window before ``at``."""
    start, end = to_micros(at - NAT_WINDOW), to_micros(at)
    sql = "SELECT seq, at, body FROM records WHERE pub = ? AND at BETWEEN ? AND ?"
    params: list[Any] = [public_ip, start, end]
    if port is not None:
        sql += " AND port = ?"
        params.append(port)
    hits: list[dict[str, Any]] = []
    for day in _days(start, end + 1):
        conn = _open(root, "nat", day)
        if conn is not None:
            rows = list(conn.execute(sql + " ORDER BY at", params))
            if packed.is_packed(conn):
                lo, hi = packed.nat_key(public_ip, port)
                rows += sorted((r.seq, r.at, r.body) for r, _ in packed.records(conn, "nat", lo, hi)
                               if start <= r.at <= end)
                rows.sort(key=lambda row: row[1])
            hits += [_hit("nat", row) for row in rows]
            conn.close()
    if port is not None and hits:
        hits = hits[-1:]  # the last connection on that port before T is the one
    return hits


def who_had(root: Path, ip: str, at: datetime, port: int | None = None) -> list[dict[str, Any]]:
    """Answer "who had IP X at T": an internal IP maps to its session; a public one goes
    through the NAT records to the internal client, then to its session."""
    nat = nat_at(root, ip, port, at)
    if nat:
        out = []
        for hit in nat:
            session = session_at(root, str(hit.get("ip")), datetime.fromisoformat(hit["at"]))
            out.append({"nat": hit, "session": session})
        return out
    session = session_at(root, ip, at)
    return [{"nat": None, "session": session}] if session else []


def _days(start: int, end: int) -> Iterator[date]:
    day, last = day_of(start), day_of(end) + timedelta(days=1)
    while day <= last:
        yield day
        day += timedelta(days=1)


def local_day(day: date, zone: str) -> tuple[int, int]:
    """The UTC microsecond range of a calendar day in the school's time zone."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(), tz)
    return to_micros(start), to_micros(datetime.combine(day + timedelta(days=1), time(), tz))


def _busiest(item: tuple[tuple[Any, Any], list[int]]) -> tuple[int, str, str]:
    """Most requests first; ties by login and IP, so rows and packed blocks list alike."""
    (login, ip), seen = item
    return -seen[0], str(login), str(ip)


def visited(root: Path, host: str, day: date, zone: str = "Europe/Paris",
            subdomains: bool = True) -> list[dict[str, Any]]:
    """Who visited ``host`` (and its subdomains) on ``day``: one line per user and client."""
    start, end = local_day(day, zone)
    prefix = segment.reverse_host(host)
    # '/' follows '.' in ASCII: [prefix, prefix-with-'/') is the domain and every subdomain.
    params = [prefix, prefix[:-1] + "/" if subdomains else prefix + "\x00"]
    sql = ("SELECT login, ip, count(*), min(at), max(at) FROM records "
           "WHERE host >= ? AND host < ? AND at >= ? AND at < ? GROUP BY login, ip")
    totals: dict[tuple[Any, Any], list[int]] = {}
    for segment_day in _days(start, end - 1):
        conn = _open(root, "navigation", segment_day)
        if conn is None:
            continue
        for login, ip, count, first, last in conn.execute(sql, [*params, start, end]):
            seen = totals.setdefault((login, ip), [0, first, last])
            seen[0] += count
            seen[1], seen[2] = min(seen[1], first), max(seen[2], last)
        if packed.is_packed(conn):
            visits.visit_totals(conn, params[0], params[1], start, end, totals)
        conn.close()
    return [{"login": login, "ip": ip, "requests": c, "first": from_micros(f).isoformat(),
             "last": from_micros(la).isoformat()}
            for (login, ip), (c, f, la) in sorted(totals.items(), key=_busiest)]


def connections_of(root: Path, login: str, start: datetime, end: datetime,
                   limit: int = 1000) -> list[dict[str, Any]]:
    """One person's session records (opened, closed) between ``start`` and ``end``, in order."""
    import json

    from appliance.journal import export  # the export's selection, by the indexed login column
    lo, hi = to_micros(start), to_micros(end)
    found: list[dict[str, Any]] = []
    for day in _days(lo, hi - 1):
        for _, at, body in export._select(root, "session", day, "login", login, lo, hi):
            found.append({"at": from_micros(at).isoformat(), **json.loads(body)})
            if len(found) >= limit:
                return found
    return found
