"""Phase 3, apply: every change of a plan in one SQLite transaction with its journal records, or
nothing at all. The initial passwords reach their 0600 file only once the transaction commits."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from appliance.directory import accounts, passwords, people
from appliance.directory.people import Person
from appliance.imports import pending
from appliance.imports.codes import ImportRefused
from appliance.imports.model import Incoming, Structure
from appliance.imports.prepare import Change, Plan
from appliance.journal import Journal

VERB = {"create": "created", "update": "updated", "deactivate": "deactivated",
        "reactivate": "reactivated"}
# Tests set this to fail at the Nth change, to prove the rollback (None in service).
FAIL_AT: Callable[[int, Change], None] | None = None


Progress = Callable[[int, int], None]
"""(done, total) steps: each new password's hash, then each change (the console's bar)."""


def _new(changes: list[Change]) -> list[Change]:
    return [c for c in changes if c.action == "create" and c.password and c.login]


def _hashes(changes: list[Change], progress: Progress | None = None) -> dict[str, str]:
    """argon2id of every new password, on every core (argon2 releases the GIL)."""
    new = _new(changes)
    total = len(new) + len(changes)
    out = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        hashed = pool.map(lambda c: passwords.hash_password(c.password or ""), new)
        for done, (c, h) in enumerate(zip(new, hashed, strict=True), start=1):
            out[c.login or ""] = h
            if progress is not None:
                progress(done, total)
    return out


def journal_fields(change: Change, import_id: str, actor: str) -> dict[str, str | None]:
    """The journal record of one change: who, which key, what happened; never a password."""
    return {"action": VERB[change.action], "key": change.key, "login": change.login,
            "profile": change.profile, "source": change.source, "import_id": import_id,
            "actor": actor, "changed": ",".join(change.changed) or None}


def _person(t: Incoming) -> Person:
    local = t.source != "aaf"
    return Person(None if local else t.key, t.key if local else None, t.source,
                  t.last_name or "", t.first_name or "", t.profile or "", t.uai, t.birth_date,
                  t.email)


def _groups(t: Incoming, structures: dict[str, Structure]) -> list[tuple[str, str, str]]:
    labels = structures[t.uai].labels if t.uai in structures else {}
    return [(code, labels.get(code, code), kind)
            for kind, codes in (("class", t.classes or ()), ("group", t.groups or ()))
            for code in codes]


def _one(conn: sqlite3.Connection, change: Change, structures: dict[str, Structure],
         hashes: dict[str, str], now: float) -> None:
    if change.action == "deactivate":
        assert change.person_id is not None
        people.deactivate(conn, change.person_id, now)
        return
    target = change.target
    assert target is not None
    person_id, _ = people.upsert(conn, _person(target), now)
    conn.execute("UPDATE people SET category = ? WHERE id = ?", (target.category, person_id))
    people.set_groups(conn, person_id, target.uai or "", _groups(target, structures))
    if change.action == "create":
        assert change.login and change.password
        accounts.create(conn, person_id, change.login, change.password, now,
                        password_hash=hashes[change.login])
    elif change.action == "reactivate":
        conn.execute("UPDATE accounts SET state = 'active', deactivated_at = NULL "
                     "WHERE person_id = ?", (person_id,))


def _structures(conn: sqlite3.Connection, structures: dict[str, Structure], now: float) -> None:
    for s in structures.values():
        conn.execute("INSERT INTO structures (uai, name, kind, updated_at, join_key) "
                     "VALUES (?, ?, ?, ?, ?) ON CONFLICT(uai) DO UPDATE SET name = excluded.name,"
                     " kind = excluded.kind, updated_at = excluded.updated_at, "
                     "join_key = excluded.join_key", (s.uai, s.name, s.kind, now, s.jointure))


def apply(conn: sqlite3.Connection, plan: Plan, structures: dict[str, Structure],
          state: Path, journal_root: Path, import_id: str, actor: str, now: float,
          progress: Progress | None = None) -> None:
    """Apply ``plan``; on any error roll everything back and raise ImportRefused (IMP-021)."""
    changes = plan.applicable()
    hashes = _hashes(changes, progress)
    hashed = len(hashes)
    slips = [pending.Slip(c.login or "", c.password or "", c.target.last_name or "",
                          c.target.first_name or "", c.target.division, now)
             for c in changes if c.action == "create" and c.target is not None]
    staged: Path | None = None
    journaled = False
    if conn.in_transaction:
        conn.commit()
    try:
        conn.execute("BEGIN IMMEDIATE")
        _structures(conn, structures, now)
        for number, change in enumerate(changes, start=1):
            if FAIL_AT is not None:
                FAIL_AT(number, change)
            _one(conn, change, structures, hashes, now)
            if progress is not None:
                progress(hashed + number, hashed + len(changes))
        staged = pending.stage(state, slips, now)
        if changes:
            at = datetime.fromtimestamp(now, UTC)
            Journal.open(journal_root).append_many(
                "directory", [journal_fields(c, import_id, actor) for c in changes],
                at=[at] * len(changes))
            journaled = True
        conn.commit()
    except Exception as exc:
        conn.rollback()
        pending.discard(staged)
        if journaled:  # the journal is another store: say the recorded changes did not happen
            Journal.open(journal_root).append("directory", {
                "action": "import-rolled-back", "import_id": import_id, "actor": actor})
        message = exc.message if hasattr(exc, "message") else f"{type(exc).__name__}: {exc}"
        raise ImportRefused("IMP-021", "import", str(message)) from exc
    pending.commit(staged)
