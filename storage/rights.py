"""Rights per item (D-STO-1): read (r), modify (m: write, create inside), delete (d), for users
and groups. Each share kind gives defaults; entries of the store's storage_acl table change
them for one item and what lies below it (the deepest entry wins; a user's entry beats a
group's, a group's beats a category's)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from appliance.state import migrate
from storage.drops import HANDED, RETURNED
from storage.tree import ADMIN, CLASSES, DROPS, GROUPS, HOME, STAFF_SHARE, Location
from storage.users import PUPIL, STAFF, TEACHER, User

READ, MODIFY, DELETE = "r", "m", "d"
ALL = frozenset("rmd")
NONE: frozenset[str] = frozenset()

STEPS = ("""
    CREATE TABLE storage_acl (
        space TEXT NOT NULL,
        share TEXT NOT NULL DEFAULT '',
        path TEXT NOT NULL DEFAULT '',
        principal TEXT NOT NULL CHECK (principal GLOB 'user:*' OR principal GLOB 'group:*'
                                       OR principal GLOB 'category:*'),
        rights TEXT NOT NULL CHECK (rights IN ('', 'r', 'rm', 'rd', 'rmd')),
        PRIMARY KEY (space, share, path, principal))
""",)


def prepare(conn: sqlite3.Connection) -> None:
    migrate(conn, "storage_acl", STEPS)


def _drop(user: User, loc: Location, now: float) -> frozenset[str]:
    box = loc.box
    assert box is not None
    if loc.view == "handed":
        if not box.open_at(now):
            return frozenset(READ)
        return frozenset("rm") if not loc.rel else ALL
    if loc.view in ("returned", "archive") or user.category == PUPIL:
        return frozenset(READ)
    # A teacher of the class: reads and removes what was handed in, writes what goes back.
    if loc.rel[:1] == (HANDED,):
        return frozenset("r") if len(loc.rel) == 1 else frozenset("rd")
    if loc.rel[:1] == (RETURNED,):
        return frozenset("rm") if len(loc.rel) == 1 else ALL
    return frozenset(READ)


def defaults(user: User, loc: Location, pupils_write: tuple[str, ...],
             now: float = 0.0) -> frozenset[str]:
    """What a share kind gives ``user`` at ``loc`` before any entry of the table."""
    if loc.space == DROPS and loc.box is not None:
        return _drop(user, loc, now)
    if loc.virtual:
        return frozenset(READ)
    if loc.space == HOME:
        return ALL
    if loc.space in (CLASSES, GROUPS):
        if user.category in (TEACHER, STAFF):
            return ALL
        writes = "*" in pupils_write or (loc.share or "") in pupils_write
        return ALL if writes else frozenset(READ)
    if loc.space == STAFF_SHARE:
        return ALL if user.category in (TEACHER, STAFF) else NONE
    if loc.space == ADMIN:
        return ALL if user.category == STAFF else NONE
    return NONE


@dataclass(frozen=True)
class Entry:
    path: tuple[str, ...]
    principal: str
    rights: frozenset[str]


def entries(conn: sqlite3.Connection, loc: Location) -> list[Entry]:
    """The table's entries of the share ``loc`` is in."""
    rows = conn.execute("SELECT path, principal, rights FROM storage_acl WHERE space = ? AND "
                        "share = ?", (loc.space or "", loc.share or ""))
    return [Entry(tuple(p for p in r[0].split("/") if p), r[1], frozenset(r[2])) for r in rows]


def _rank(user: User, principal: str) -> int | None:
    kind, _, name = principal.partition(":")
    if kind == "user":
        return 2 if name == user.login else None
    if kind == "group":
        return 1 if name in user.classes or name in user.groups else None
    return 0 if name == user.category else None


def rights(user: User, loc: Location, table: list[Entry],
           pupils_write: tuple[str, ...] = (), now: float = 0.0) -> frozenset[str]:
    """The rights ``user`` holds on ``loc`` (``now``: for drop box deadlines)."""
    if not user.active:
        return NONE
    held = defaults(user, loc, pupils_write, now)
    if loc.virtual or loc.space in (HOME, DROPS):
        return held  # a home is its owner's alone, a drop box follows its own rules
    best: tuple[int, int] | None = None
    for entry in table:
        if entry.path != loc.rel[:len(entry.path)]:
            continue
        rank = _rank(user, entry.principal)
        if rank is None:
            continue
        key = (len(entry.path), rank)
        if best is None or key > best:
            best, held = key, entry.rights
    if not loc.rel:
        held = held - {DELETE}  # a share itself is never deleted or moved by a user
    return held


def grant(conn: sqlite3.Connection, space: str, share: str, path: str, principal: str,
          given: str) -> None:
    """Set ``principal``'s rights on an item (``given``: '', 'r', 'rm', 'rd' or 'rmd')."""
    with conn:
        conn.execute("INSERT INTO storage_acl (space, share, path, principal, rights) "
                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT (space, share, path, principal) "
                     "DO UPDATE SET rights = excluded.rights",
                     (space, share, path.strip("/"), principal, "".join(
                         c for c in "rmd" if c in given)))


__all__ = ["ALL", "DELETE", "MODIFY", "NONE", "PUPIL", "READ", "Entry", "defaults", "entries",
           "grant", "prepare", "rights"]
