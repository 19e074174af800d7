"""Filtering's runtime state: teacher openings, the school's exceptions, unblock requests and
the recently blocked connections a client can be shown (D-FIL-5, D-FIL-6). SQLite, WAL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from appliance.clock import utc
from appliance.state import migrate
from filtering.policy import Opening

SCHEMA = [
    """
    CREATE TABLE filter_openings (
        id INTEGER PRIMARY KEY, domain TEXT NOT NULL, zone TEXT NOT NULL,
        until TEXT NOT NULL, by TEXT NOT NULL DEFAULT '', created TEXT NOT NULL);
    CREATE TABLE filter_exceptions (
        domain TEXT NOT NULL, action TEXT NOT NULL CHECK (action IN ('allow', 'block')),
        by TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, PRIMARY KEY (domain, action));
    CREATE TABLE filter_unblock_requests (
        id INTEGER PRIMARY KEY, client TEXT NOT NULL, host TEXT NOT NULL, url TEXT NOT NULL,
        category TEXT NOT NULL, reason TEXT NOT NULL, comment TEXT NOT NULL DEFAULT '',
        created TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open');
    CREATE TABLE filter_recent_blocks (
        client TEXT NOT NULL, host TEXT NOT NULL, category TEXT NOT NULL, reason TEXT NOT NULL,
        profile TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (client, host));
    CREATE INDEX filter_recent_blocks_at ON filter_recent_blocks (at)
    """,
    # The referent's answer to an unblock request, which the pupil reads on /bloques.
    """
    ALTER TABLE filter_unblock_requests ADD COLUMN answer TEXT NOT NULL DEFAULT '';
    ALTER TABLE filter_unblock_requests ADD COLUMN decided_by TEXT NOT NULL DEFAULT '';
    ALTER TABLE filter_unblock_requests ADD COLUMN decided_at TEXT;
    ALTER TABLE filter_unblock_requests ADD COLUMN until TEXT
    """,
]
RECENT = timedelta(hours=1)


def prepare(conn: sqlite3.Connection) -> None:
    """Create or upgrade filtering's tables."""
    migrate(conn, "filtering", SCHEMA)


def _iso(when: datetime) -> str:
    """Stored times are UTC (``...+00:00``), so they also sort and compare as text."""
    return utc(when).isoformat(timespec="seconds")


def _read(text: str) -> datetime:
    """A stored time, UTC aware (rows written before times were aware are naive UTC)."""
    when = datetime.fromisoformat(text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def add_opening(conn: sqlite3.Connection, domain: str, zone: str, until: datetime,
                by: str, now: datetime) -> None:
    with conn:
        conn.execute("INSERT INTO filter_openings (domain, zone, until, by, created) "
                     "VALUES (?, ?, ?, ?, ?)", (domain, zone, _iso(until), by, _iso(now)))


def running_openings(conn: sqlite3.Connection, now: datetime) -> list[sqlite3.Row]:
    """Openings still running at ``now`` with their numbers, soonest end first."""
    return conn.execute("SELECT id, domain, zone, until, by, created FROM filter_openings "
                        "WHERE until > ? ORDER BY until, id", (_iso(now),)).fetchall()


def close_opening(conn: sqlite3.Connection, number: int, by: str, now: datetime) -> bool:
    """End ``by``'s running opening ``number`` now; False when it is not theirs or is over."""
    with conn:
        cur = conn.execute("UPDATE filter_openings SET until = ? WHERE id = ? AND by = ? "
                           "AND until > ?", (_iso(now), number, by, _iso(now)))
    return cur.rowcount == 1


def openings(conn: sqlite3.Connection, now: datetime) -> list[Opening]:
    """Openings still running at ``now``."""
    rows = conn.execute("SELECT domain, zone, until, by FROM filter_openings WHERE until > ?",
                        (_iso(now),)).fetchall()
    return [Opening(r["domain"], r["zone"], _read(r["until"]), r["by"])
            for r in rows]


def set_exception(conn: sqlite3.Connection, domain: str, action: str, by: str,
                  now: datetime) -> None:
    with conn:
        conn.execute("DELETE FROM filter_exceptions WHERE domain = ?", (domain,))
        conn.execute("INSERT INTO filter_exceptions (domain, action, by, created) "
                     "VALUES (?, ?, ?, ?)", (domain, action, by, _iso(now)))


def exceptions(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """The school's runtime (allowed, blocked) domains."""
    rows = conn.execute("SELECT domain, action FROM filter_exceptions").fetchall()
    return ([r["domain"] for r in rows if r["action"] == "allow"],
            [r["domain"] for r in rows if r["action"] == "block"])


@dataclass(frozen=True)
class Blocked:
    """A connection the filter refused, as the client's "recently blocked" list shows it."""

    host: str
    category: str
    reason: str
    profile: str
    at: datetime


def record_block(conn: sqlite3.Connection, client: str, host: str, category: str,
                 reason: str, profile: str, now: datetime) -> None:
    """Remember that ``client`` was refused ``host`` (one row per client and host, latest)."""
    with conn:
        conn.execute("INSERT INTO filter_recent_blocks (client, host, category, reason, profile, "
                     "at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(client, host) DO UPDATE SET "
                     "category = excluded.category, reason = excluded.reason, "
                     "profile = excluded.profile, at = excluded.at",
                     (client, host, category, reason, profile, _iso(now)))
        conn.execute("DELETE FROM filter_recent_blocks WHERE at < ?", (_iso(now - RECENT),))


BlockRow = tuple[str, str, str, str, str, datetime]  # client, host, category, reason, profile, at


def record_blocks(conn: sqlite3.Connection, rows: list[BlockRow]) -> None:
    """Many refusals at once, in one transaction: (client, host, category, reason, profile,
    when) each, the latest per client and host kept."""
    if not rows:
        return
    stamps: dict[datetime, str] = {}  # a batch shares a few instants: format each once
    for r in rows:
        if r[5] not in stamps:
            stamps[r[5]] = _iso(r[5])
    # In key order: each insertion lands next to the previous one in the B-trees (half the
    # time of a random order, measured with 15,000-row batches).
    params = sorted((*r[:5], stamps[r[5]]) for r in rows)
    with conn:
        conn.executemany("INSERT INTO filter_recent_blocks (client, host, category, reason, "
                         "profile, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(client, host) DO "
                         "UPDATE SET category = excluded.category, reason = excluded.reason, "
                         "profile = excluded.profile, at = excluded.at", params)
        newest = max(r[5] for r in rows)
        conn.execute("DELETE FROM filter_recent_blocks WHERE at < ?", (_iso(newest - RECENT),))


def recent_blocks(conn: sqlite3.Connection, client: str, now: datetime) -> list[Blocked]:
    """What ``client`` was refused in the last hour, newest first."""
    rows = conn.execute("SELECT host, category, reason, profile, at FROM filter_recent_blocks "
                        "WHERE client = ? AND at >= ? ORDER BY at DESC",
                        (client, _iso(now - RECENT))).fetchall()
    return [Blocked(r["host"], r["category"], r["reason"], r["profile"],
                    _read(r["at"])) for r in rows]


def request_unblock(conn: sqlite3.Connection, client: str, host: str, url: str, category: str,
                    reason: str, comment: str, now: datetime) -> int:
    """Record a request to the referent to unblock ``host``; returns its number."""
    with conn:
        cur = conn.execute(
            "INSERT INTO filter_unblock_requests (client, host, url, category, reason, comment, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (client, host, url, category, reason, comment, _iso(now)))
    return int(cur.lastrowid or 0)


def unblock_requests(conn: sqlite3.Connection, status: str = "open") -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM filter_unblock_requests WHERE status = ? ORDER BY id",
                        (status,)).fetchall()


def answer_request(conn: sqlite3.Connection, number: int, status: str, answer: str, by: str,
                   now: datetime, until: datetime | None = None) -> bool:
    """Close open request ``number`` as 'granted' (until a time) or 'refused' (with a reason
    the pupil reads); False when it is not open any more."""
    if status not in ("granted", "refused"):
        raise ValueError(status)
    with conn:
        cur = conn.execute(
            "UPDATE filter_unblock_requests SET status = ?, answer = ?, decided_by = ?, "
            "decided_at = ?, until = ? WHERE id = ? AND status = 'open'",
            (status, answer, by, _iso(now), _iso(until) if until else None, number))
    return cur.rowcount == 1


def answers_for(conn: sqlite3.Connection, client: str, since: datetime) -> list[sqlite3.Row]:
    """The requests ``client`` made since ``since``, with their answers, newest first."""
    return conn.execute("SELECT id, host, status, answer, until, created FROM "
                        "filter_unblock_requests WHERE client = ? AND created >= ? "
                        "ORDER BY id DESC LIMIT 15", (client, _iso(since))).fetchall()
