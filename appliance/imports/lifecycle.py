"""D-DIR-3: deleting the people whose entitlement ended. ``purge`` removes people deactivated for
more than 3 months (imported people); the school-year rollover also removes hand-made accounts
kept on purpose and accounts without a person. Every deletion is journaled."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.directory import people
from appliance.imports import pending
from appliance.journal import Journal


@dataclass(frozen=True)
class Purged:
    login: str | None
    key: str
    profile: str
    source: str


def purgeable(conn: sqlite3.Connection, now: float, rollover: bool) -> tuple[list[Purged],
                                                                              list[int]]:
    """Who would go: (people and bare accounts as journaled, the person ids)."""
    ids = people.purgeable(conn, now)
    found, keep = [], []
    for person_id in ids:
        r = conn.execute("SELECT p.join_key, p.local_id, p.profile, p.source, a.login FROM "
                         "people p LEFT JOIN accounts a ON a.person_id = p.id WHERE p.id = ?",
                         (person_id,)).fetchone()
        if r["source"] == "local" and not rollover:
            continue  # hand-made (e.g. a substitute teacher): kept until the rollover
        found.append(Purged(r["login"], r["join_key"] or r["local_id"], r["profile"],
                            r["source"]))
        keep.append(person_id)
    if rollover:
        limit = now - people.PURGE_AFTER_DAYS * 86400
        for r in conn.execute("SELECT login FROM accounts WHERE person_id IS NULL AND "
                              "state = 'deactivated' AND deactivated_at <= ?", (limit,)):
            found.append(Purged(r["login"], "", "", "account"))
    return found, keep


def purge(conn: sqlite3.Connection, state: Path, journal_root: Path, now: float, *,
          rollover: bool, actor: str, dry_run: bool) -> list[Purged]:
    """Delete (unless ``dry_run``) in one transaction, journaling each deletion first."""
    if conn.in_transaction:
        conn.commit()
    conn.execute("BEGIN IMMEDIATE")
    try:
        found, ids = purgeable(conn, now, rollover)
        if dry_run or not found:
            conn.rollback()
            return found
        people.purge(conn, ids)
        if rollover:
            limit = now - people.PURGE_AFTER_DAYS * 86400
            conn.execute("DELETE FROM accounts WHERE person_id IS NULL AND state = "
                         "'deactivated' AND deactivated_at <= ?", (limit,))
        at = datetime.fromtimestamp(now, UTC)
        Journal.open(journal_root).append_many("directory", [
            {"action": "purged", "key": p.key, "login": p.login, "profile": p.profile,
             "source": p.source, "actor": actor, "rollover": int(rollover)} for p in found],
            at=[at] * len(found))
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    slips = pending.load(state)
    gone = {p.login for p in found}
    if gone & set(slips):
        pending.save(state, {k: s for k, s in slips.items() if k not in gone})
    return found
