"""Accounts by hand, for the referent: list and show them, add a local account (a substitute
teacher, a visiting speaker) and reset a password (a new initial one, to change at next login)."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.directory import accounts, logins, passwords, people
from appliance.directory.people import Person
from appliance.errors import CarineError
from appliance.imports import pending
from appliance.journal import Journal

_LIST = """SELECT p.id, a.login, p.last_name, p.first_name, p.profile, p.source, p.state,
    p.join_key, p.local_id, p.uai, p.birth_date, p.email, p.deactivated_at, a.must_change,
    a.charter_version, a.locked_until,
    (SELECT group_concat(g.code, ',') FROM memberships m JOIN groups g ON g.id = m.group_id
     WHERE m.person_id = p.id AND g.kind = 'class') AS classes,
    (SELECT group_concat(g.code, ',') FROM memberships m JOIN groups g ON g.id = m.group_id
     WHERE m.person_id = p.id AND g.kind = 'group') AS groups
    FROM people p LEFT JOIN accounts a ON a.person_id = p.id"""


def listing(conn: sqlite3.Connection, profile: str | None = None,
            division: str | None = None, state: str | None = None) -> list[sqlite3.Row]:
    rows = conn.execute(_LIST + " ORDER BY p.last_name, p.first_name").fetchall()
    return [r for r in rows if (profile is None or r["profile"] == profile)
            and (state is None or r["state"] == state)
            and (division is None or division in (r["classes"] or "").split(","))]


def show(conn: sqlite3.Connection, login: str) -> sqlite3.Row:
    row = conn.execute(_LIST + " WHERE a.login = ?", (login.strip().lower(),)).fetchone()
    if row is None:
        raise CarineError(f"no account {login!r}", "carine users list shows every account")
    found: sqlite3.Row = row
    return found


@dataclass(frozen=True)
class NewAccount:
    login: str
    password: str


def _journal(root: Path, now: float, fields: dict[str, str | None]) -> None:
    Journal.open(root).append("directory", fields, at=datetime.fromtimestamp(now, UTC))


def add_local(conn: sqlite3.Connection, state: Path, journal_root: Path, now: float, *,
              last_name: str, first_name: str, profile: str, known_profiles: frozenset[str],
              division: str | None, uai: str | None, email: str | None,
              actor: str) -> NewAccount:
    """A person of source "local" with an account; their slip goes to the pending file."""
    if profile not in known_profiles:
        raise CarineError(f"unknown profile {profile!r}",
                          f"one of: {', '.join(sorted(known_profiles))}")
    if not last_name.strip() or not first_name.strip():
        raise CarineError("a last name and a first name are needed")
    password = passwords.initial_password()
    local_id = f"local-{secrets.token_hex(6)}"
    try:
        conn.execute("BEGIN IMMEDIATE")
        login = logins.allocate(conn, first_name, last_name)
        person_id, _ = people.upsert(conn, Person(None, local_id, "local", last_name.strip(),
                                                  first_name.strip(), profile, uai, None, email),
                                     now)
        conn.execute("UPDATE people SET category = 'local' WHERE id = ?", (person_id,))
        if division:
            people.set_groups(conn, person_id, uai or "", [(division, division, "class")])
        accounts.create(conn, person_id, login, password, now)
        _journal(journal_root, now, {"action": "created", "key": local_id, "login": login,
                                     "profile": profile, "source": "local", "actor": actor})
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    _add_slip(state, pending.Slip(login, password, last_name, first_name, division, now), now)
    return NewAccount(login, password)


def reset_password(conn: sqlite3.Connection, state: Path, journal_root: Path, now: float,
                   login: str, actor: str) -> NewAccount:
    """A new initial password for ``login``, to change at next login; lockout lifted."""
    row = show(conn, login)
    password = passwords.initial_password()
    account = accounts.find(conn, row["login"])
    assert account is not None
    accounts.set_password(conn, account.id, password, now, must_change=True)
    _journal(journal_root, now, {"action": "password-reset", "key": row["join_key"] or
                                 row["local_id"], "login": row["login"],
                                 "profile": row["profile"], "actor": actor})
    division = (row["classes"] or "").split(",")[0] or None
    _add_slip(state, pending.Slip(row["login"], password, row["last_name"], row["first_name"],
                                  division, now), now)
    return NewAccount(row["login"], password)


def _add_slip(state: Path, slip: pending.Slip, now: float) -> None:
    slips = pending.load(state, now)
    slips[slip.login] = slip
    pending.save(state, slips)
