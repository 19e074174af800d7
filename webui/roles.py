"""Who may do what in the console (D-AUT-6): an account's rights are the union of its roles —
enseignant by its directory profile or a grant, référent and chef d'établissement by grant."""

from __future__ import annotations

import sqlite3
from enum import StrEnum

from appliance.errors import CarineError
from appliance.state import migrate

STEPS = (
    """
    CREATE TABLE console_roles (
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('enseignant', 'referent', 'chef')),
        granted_by TEXT NOT NULL, granted_at REAL NOT NULL,
        PRIMARY KEY (account_id, role));
    CREATE TABLE console_totp (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
        secret TEXT NOT NULL, last_step INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL)
    """,
)


class Role(StrEnum):
    TEACHER = "enseignant"
    REFERENT = "referent"
    HEAD = "chef"


LABELS = {Role.TEACHER: "Enseignant", Role.REFERENT: "Référent numérique",
          Role.HEAD: "Chef d'établissement"}
# Roles whose holder must give a second factor (TOTP) at every login.
SECOND_FACTOR = frozenset({Role.REFERENT, Role.HEAD})


def prepare(conn: sqlite3.Connection) -> None:
    """Create or upgrade the console's tables (after the directory's)."""
    migrate(conn, "console", STEPS)


def of(conn: sqlite3.Connection, account_id: int, profile: str,
       teacher_profile: str) -> frozenset[Role]:
    """Every role the account holds: the union of its grants and its profile's."""
    rows = conn.execute("SELECT role FROM console_roles WHERE account_id = ?",
                        (account_id,)).fetchall()
    held = {Role(row[0]) for row in rows}
    if profile == teacher_profile:
        held.add(Role.TEACHER)
    return frozenset(held)


def grant(conn: sqlite3.Connection, account_id: int, role: str, by: str, now: float) -> None:
    try:
        chosen = Role(role)
    except ValueError:
        raise CarineError(f"{role!r} is not a console role",
                          "one of: " + ", ".join(r.value for r in Role)) from None
    with conn:
        conn.execute("INSERT OR IGNORE INTO console_roles (account_id, role, granted_by, "
                     "granted_at) VALUES (?, ?, ?, ?)", (account_id, chosen.value, by, now))


def revoke(conn: sqlite3.Connection, account_id: int, role: str) -> bool:
    with conn:
        cur = conn.execute("DELETE FROM console_roles WHERE account_id = ? AND role = ?",
                           (account_id, role))
    return cur.rowcount > 0
