"""The session store: one open session per client address, opened by whichever method
authenticated the client, closed by logout, expiry, replacement or accounting stop."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from appliance.state import connect, migrate


class Method(StrEnum):
    """How the client was authenticated (the journal's "how" column)."""

    PORTAL = "portal"
    DOT1X = "802.1x"
    DEVICE = "device"
    VOUCHER = "voucher"


STEPS = (
    """
    CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        method TEXT NOT NULL CHECK (method IN ('portal', '802.1x', 'device', 'voucher')),
        account_id INTEGER,
        device_id INTEGER,
        voucher_id INTEGER,
        login TEXT NOT NULL,
        profile TEXT NOT NULL,
        ip TEXT NOT NULL,
        mac TEXT,
        zone TEXT,
        started_at REAL NOT NULL,
        last_seen REAL NOT NULL,
        idle_timeout REAL NOT NULL,
        expires_at REAL NOT NULL,
        ended_at REAL,
        end_reason TEXT,
        acct_session TEXT);
    CREATE UNIQUE INDEX sessions_open_ip ON sessions(ip) WHERE ended_at IS NULL;
    CREATE INDEX sessions_ended ON sessions(ended_at);
    CREATE INDEX sessions_acct ON sessions(acct_session) WHERE acct_session IS NOT NULL
    """,
)


@dataclass(frozen=True)
class Session:
    id: int
    method: Method
    login: str
    profile: str
    ip: str
    mac: str | None
    zone: str | None
    started_at: float
    last_seen: float
    idle_timeout: float
    expires_at: float
    ended_at: float | None = None
    end_reason: str | None = None
    account_id: int | None = None
    device_id: int | None = None
    voucher_id: int | None = None
    acct_session: str | None = None

    def expired(self, now: float) -> str | None:
        """Why this session is over at ``now`` ("idle", "timeout"), or None."""
        if now >= self.expires_at:
            return "timeout"
        if now >= self.last_seen + self.idle_timeout:
            return "idle"
        return None


_SELECT = ("SELECT id, method, login, profile, ip, mac, zone, started_at, last_seen, "
           "idle_timeout, expires_at, ended_at, end_reason, account_id, device_id, voucher_id, "
           "acct_session FROM sessions")


def _session(row: sqlite3.Row | tuple[object, ...]) -> Session:
    values = list(row)
    values[1] = Method(values[1])
    return Session(*values)


def prepare(conn: sqlite3.Connection) -> None:
    migrate(conn, "sessions", STEPS)


def open_store(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    prepare(conn)
    return conn


def start(conn: sqlite3.Connection, *, method: Method, login: str, profile: str, ip: str,
          mac: str | None, zone: str | None, now: float, idle_timeout: float, lifetime: float,
          account_id: int | None = None, device_id: int | None = None,
          voucher_id: int | None = None, acct_session: str | None = None
          ) -> tuple[Session, Session | None]:
    """Open a session for ``ip``; (the new session, the one it replaced on that address)."""
    replaced = by_ip(conn, ip)
    with conn:
        if replaced is not None:
            conn.execute("UPDATE sessions SET ended_at = ?, end_reason = 'replaced' WHERE id = ?",
                         (now, replaced.id))
        cur = conn.execute(
            "INSERT INTO sessions (method, login, profile, ip, mac, zone, started_at, last_seen,"
            " idle_timeout, expires_at, account_id, device_id, voucher_id, acct_session) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (method.value, login, profile, ip, mac, zone, now, now, idle_timeout,
             now + lifetime, account_id, device_id, voucher_id, acct_session))
    session = get(conn, int(cur.lastrowid or 0))
    assert session is not None
    ended = get(conn, replaced.id) if replaced is not None else None
    return session, ended


def get(conn: sqlite3.Connection, session_id: int) -> Session | None:
    row = conn.execute(_SELECT + " WHERE id = ?", (session_id,)).fetchone()
    return _session(row) if row else None


def by_ip(conn: sqlite3.Connection, ip: str) -> Session | None:
    """The open session of ``ip``, if any (expired or not: the caller decides)."""
    row = conn.execute(_SELECT + " WHERE ip = ? AND ended_at IS NULL",
                       (ip,)).fetchone()
    return _session(row) if row else None


def by_accounting(conn: sqlite3.Connection, acct_session: str) -> Session | None:
    """The open session of a RADIUS Acct-Session-Id."""
    row = conn.execute(_SELECT + " WHERE acct_session = ? AND ended_at IS NULL",
                       (acct_session,)).fetchone()
    return _session(row) if row else None


def open_sessions(conn: sqlite3.Connection) -> list[Session]:
    return [_session(r) for r in conn.execute(
        _SELECT + " WHERE ended_at IS NULL ORDER BY id")]


def seen(conn: sqlite3.Connection, session_id: int, when: float) -> None:
    """The client was active at ``when`` (resets the idle clock)."""
    with conn:
        conn.execute("UPDATE sessions SET last_seen = MAX(last_seen, ?) WHERE id = ? "
                     "AND ended_at IS NULL", (when, session_id))


def end(conn: sqlite3.Connection, session_id: int, reason: str, now: float) -> Session | None:
    """Close a session ("logout", "idle", "timeout", "stop", "revoked"); None if already closed."""
    with conn:
        cur = conn.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? "
                           "AND ended_at IS NULL", (now, reason, session_id))
    return get(conn, session_id) if cur.rowcount else None


def expire(conn: sqlite3.Connection, now: float) -> list[Session]:
    """Close every open session past its idle or absolute limit; the sessions closed."""
    closed = []
    for session in open_sessions(conn):
        reason = session.expired(now)
        if reason is not None:
            done = end(conn, session.id, reason, now)
            if done is not None:
                closed.append(done)
    return closed
