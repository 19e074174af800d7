"""The directory as RADIUS reads it: an account with its NT hash and lockout state, a registered
device by MAC, and failure counting for MSCHAPv2 (whose password check happens in FreeRADIUS)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from appliance.directory.accounts import Lockout


@dataclass(frozen=True)
class Subscriber:
    """An account as RADIUS needs it (the NT hash only when the site allows PEAP)."""

    id: int
    login: str
    profile: str
    active: bool
    locked_until: float | None
    nt_hash: str | None

    def locked(self, now: float) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class Device:
    id: int
    mac: str
    name: str
    owner: str
    profile: str
    zone: str | None


_ACCOUNT = """SELECT a.id, a.login, COALESCE(p.profile, ''), a.state = 'active' AND
    COALESCE(p.state, 'active') = 'active', a.locked_until, a.nt_hash
    FROM accounts a LEFT JOIN people p ON p.id = a.person_id WHERE a.login = ?"""


def subscriber(conn: sqlite3.Connection, login: str) -> Subscriber | None:
    row = conn.execute(_ACCOUNT, (login.strip().lower(),)).fetchone()
    if row is None:
        return None
    return Subscriber(row[0], row[1], row[2], bool(row[3]), row[4], row[5])


def device(conn: sqlite3.Connection, mac: str) -> Device | None:
    """The active registered device with that (normalised) MAC."""
    row = conn.execute("SELECT id, mac, name, owner, profile, zone FROM devices "
                       "WHERE mac = ? AND state = 'active'", (mac,)).fetchone()
    return Device(*row) if row else None


def count_failure(conn: sqlite3.Connection, account_id: int, now: float,
                  lockout: Lockout) -> bool:
    """One more failure, with the same rule as accounts.authenticate; True if now locked."""
    with conn:
        row = conn.execute("SELECT failures FROM accounts WHERE id = ?", (account_id,)).fetchone()
        failures = (row[0] if row else 0) + 1
        locked = now + lockout.minutes * 60 if failures >= lockout.attempts else None
        conn.execute("UPDATE accounts SET failures = ?, locked_until = ? WHERE id = ?",
                     (0 if locked else failures, locked, account_id))
    return locked is not None


def clear_failures(conn: sqlite3.Connection, account_id: int) -> None:
    with conn:
        conn.execute("UPDATE accounts SET failures = 0, locked_until = NULL WHERE id = ? "
                     "AND (failures != 0 OR locked_until IS NOT NULL)", (account_id,))
