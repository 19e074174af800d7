"""Who is asking, from the directory in the state store: login, category (pupil, teacher,
staff), active or not, and the classes and groups they belong to. Read at every request, so
an account deactivated by an import loses access at once (D-DIR-3)."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from appliance.state import connect

PUPIL, TEACHER, STAFF = "pupil", "teacher", "staff"


@dataclass(frozen=True)
class User:
    """A directory account as the storage sees it."""

    login: str
    category: str
    active: bool
    classes: frozenset[str] = field(default_factory=frozenset)
    groups: frozenset[str] = field(default_factory=frozenset)

    def member_of(self, kind: str, code: str) -> bool:
        return code in (self.classes if kind == "class" else self.groups)


class Directory:
    """Per-thread connections to the store (cheroot serves each request on its own thread)."""

    def __init__(self, store: Path, profiles: dict[str, str]) -> None:
        self.store = store
        self.profiles = profiles
        self._local = threading.local()

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.store)
            self._local.conn = conn
        return conn

    def user(self, login: str) -> User | None:
        """The account ``login`` (None if there is none)."""
        row = self.conn().execute(
            "SELECT a.id, a.login, a.state, COALESCE(p.profile, '') AS profile, "
            "COALESCE(p.state, 'active') AS pstate, a.person_id FROM accounts a "
            "LEFT JOIN people p ON p.id = a.person_id WHERE a.login = ?", (login,)).fetchone()
        if row is None:
            return None
        classes: set[str] = set()
        groups: set[str] = set()
        for code, kind in self.conn().execute(
                "SELECT g.code, g.kind FROM memberships m JOIN groups g ON g.id = m.group_id "
                "WHERE m.person_id = ?", (row["person_id"],)):
            (classes if kind == "class" else groups).add(code)
        return User(row["login"], self.profiles.get(row["profile"], PUPIL),
                    row["state"] == "active" and row["pstate"] == "active",
                    frozenset(classes), frozenset(groups))

    def shares(self, kind: str) -> list[str]:
        """Codes of every class (``kind='class'``) or group that has an active member."""
        return [r[0] for r in self.conn().execute(
            "SELECT DISTINCT g.code FROM groups g JOIN memberships m ON m.group_id = g.id "
            "JOIN people p ON p.id = m.person_id WHERE g.kind = ? AND p.state = 'active' "
            "ORDER BY g.code", (kind,))]

    def logins(self, *, active: bool | None = None) -> list[str]:
        """Every account's login (only active or only inactive ones if asked)."""
        rows = self.conn().execute(
            "SELECT a.login, a.state = 'active' AND COALESCE(p.state, 'active') = 'active' "
            "FROM accounts a LEFT JOIN people p ON p.id = a.person_id ORDER BY a.login")
        return [r[0] for r in rows if active is None or bool(r[1]) == active]
