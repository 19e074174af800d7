"""People of the directory, keyed by their AAF join key or a local id (D-AUT-2), with their
profile, classes and groups, and their life cycle: active, deactivated, purged (D-DIR-3)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

PURGE_AFTER_DAYS = 92  # D-DIR-3: personal data deleted at most 3 months after loss of entitlement


@dataclass(frozen=True)
class Person:
    """One person as the directory keeps them."""

    join_key: str | None
    local_id: str | None
    source: str
    last_name: str
    first_name: str
    profile: str
    uai: str | None = None
    birth_date: str | None = None
    email: str | None = None

    @property
    def key(self) -> str:
        """The invariant identifier: the AAF join key, else the local id."""
        return self.join_key or self.local_id or ""


def find_id(conn: sqlite3.Connection, person: Person) -> int | None:
    """The row id of ``person`` by its invariant key, or None."""
    query = ("SELECT id FROM people WHERE join_key = ?" if person.join_key
             else "SELECT id FROM people WHERE local_id = ?")
    row = conn.execute(query, (person.key,)).fetchone()
    return int(row[0]) if row else None


def upsert(conn: sqlite3.Connection, person: Person, now: float) -> tuple[int, bool]:
    """Insert ``person`` or update the names and profile it has; (id, created).

    A person seen again is active again (a pupil who comes back after a move)."""
    existing = find_id(conn, person)
    values = (person.source, person.uai, person.last_name, person.first_name, person.birth_date,
              person.email, person.profile, now)
    if existing is None:
        cur = conn.execute(
            "INSERT INTO people (join_key, local_id, source, uai, last_name, first_name, "
            "birth_date, email, profile, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (person.join_key, person.local_id, *values[:-1], now, now))
        return int(cur.lastrowid or 0), True
    conn.execute(
        "UPDATE people SET source = ?, uai = ?, last_name = ?, first_name = ?, birth_date = ?, "
        "email = ?, profile = ?, updated_at = ?, state = 'active', deactivated_at = NULL "
        "WHERE id = ?", (*values, existing))
    return existing, False


def set_groups(conn: sqlite3.Connection, person_id: int, uai: str,
               groups: list[tuple[str, str, str]]) -> None:
    """Make ``person_id`` a member of exactly ``groups`` [(code, label, class|group)] in ``uai``."""
    conn.execute("DELETE FROM memberships WHERE person_id = ?", (person_id,))
    for code, label, kind in groups:
        conn.execute("INSERT INTO groups (uai, code, label, kind) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT(uai, code) DO UPDATE SET label = excluded.label",
                     (uai, code, label, kind))
        conn.execute("INSERT OR IGNORE INTO memberships (person_id, group_id) "
                     "SELECT ?, id FROM groups WHERE uai = ? AND code = ?", (person_id, uai, code))


def deactivate(conn: sqlite3.Connection, person_id: int, now: float) -> bool:
    """Deactivate a person and their account (entitlement lost); False if already inactive."""
    cur = conn.execute("UPDATE people SET state = 'deactivated', deactivated_at = ?, "
                       "updated_at = ? WHERE id = ? AND state = 'active'", (now, now, person_id))
    conn.execute("UPDATE accounts SET state = 'deactivated', deactivated_at = ? "
                 "WHERE person_id = ? AND state = 'active'", (now, person_id))
    return cur.rowcount > 0


def purgeable(conn: sqlite3.Connection, now: float,
              after_days: int = PURGE_AFTER_DAYS) -> list[int]:
    """People deactivated for longer than ``after_days``: their data must go (D-DIR-3)."""
    limit = now - after_days * 86400
    return [int(r[0]) for r in conn.execute(
        "SELECT id FROM people WHERE state = 'deactivated' AND deactivated_at <= ?", (limit,))]


def purge(conn: sqlite3.Connection, person_ids: list[int]) -> int:
    """Delete these people with their account and memberships; their logins stay reserved."""
    for person_id in person_ids:
        conn.execute("DELETE FROM people WHERE id = ?", (person_id,))
    return len(person_ids)
