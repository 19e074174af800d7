"""The directory as the import compares against it: every person of the store with their account,
classes and groups, read once (a lycée is a few thousand rows)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Known:
    """A person already in the directory, in the terms of an import."""

    id: int
    source: str
    category: str
    key: str
    uai: str | None
    last_name: str
    first_name: str
    birth_date: str | None
    email: str | None
    profile: str
    active: bool
    login: str | None
    classes: tuple[str, ...]
    groups: tuple[str, ...]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(self.classes + self.groups)


def load(conn: sqlite3.Connection) -> dict[tuple[str, str], Known]:
    """Everyone, by (namespace, key): namespace "aaf" for join keys, "local" for local ids
    (shared by CSV and hand-made accounts, so a CSV cannot take over a hand-made account)."""
    codes: dict[tuple[int, str], list[str]] = {}
    for row in conn.execute("SELECT m.person_id, g.kind, g.code FROM memberships m "
                            "JOIN groups g ON g.id = m.group_id ORDER BY g.code"):
        codes.setdefault((int(row[0]), str(row[1])), []).append(str(row[2]))
    found: dict[tuple[str, str], Known] = {}
    for r in conn.execute(
            "SELECT p.id, p.join_key, p.local_id, p.source, p.category, p.uai, p.last_name, "
            "p.first_name, p.birth_date, p.email, p.profile, p.state, a.login "
            "FROM people p LEFT JOIN accounts a ON a.person_id = p.id"):
        key = r["join_key"] or r["local_id"]
        space = "aaf" if r["join_key"] else "local"
        found[(space, key)] = Known(
            int(r["id"]), r["source"], r["category"], key, r["uai"], r["last_name"],
            r["first_name"], r["birth_date"], r["email"], r["profile"], r["state"] == "active",
            r["login"], tuple(codes.get((int(r["id"]), "class"), ())),
            tuple(codes.get((int(r["id"]), "group"), ())))
    return found


def namespace(source: str) -> str:
    return "aaf" if source == "aaf" else "local"
