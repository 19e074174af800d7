"""Daily sealing: every past day of every kind gets a seal (record count, chain head, Merkle root,
times) in the ledger, empty days included, so a missing segment shows as a gap or a mismatch."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.journal import ledger, merkle, packed, segment
from appliance.journal.records import KINDS, JournalError, chain_hash, genesis, to_micros

GRACE = timedelta(hours=1)  # a day is sealed one hour after it ends (UTC), once ingesters caught up
# A sealed day is packed (appliance.journal.packed) once the forwarder, which reads yesterday's
# and today's rows, is done with it.
PACK_AFTER = timedelta(days=2)


def segment_days(root: Path, kind: str) -> list[date]:
    folder = root / kind
    if not folder.is_dir():
        return []
    days = []
    for path in folder.glob("*.sqlite"):
        try:
            days.append(date.fromisoformat(path.stem))
        except ValueError:
            continue
    return sorted(days)


def last_entries(root: Path) -> dict[str, date]:
    """The last day sealed per kind, from the ledger."""
    last: dict[str, date] = {}
    for _, _, entry in ledger.read(root):
        if entry and entry.get("type") == "seal":
            last[entry["kind"]] = max(last.get(entry["kind"], date.min),
                                      date.fromisoformat(entry["day"]))
    return last


def summarise(root: Path, kind: str, day: date, *, mark: bool) -> dict[str, Any]:
    """Count, head and Merkle root of one segment; ``mark`` flags it sealed in the same
    transaction, so no writer can add a record between the summary and the seal."""
    path = segment.segment_path(root, kind, day)
    head = genesis(kind, day)
    leaves = bytearray()
    first = last = None
    count = 0
    if path.exists():
        conn = segment.connect(path, kind, day)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for record, stored, _ in segment.iter_records(conn, kind):
                leaf = record.leaf()
                head = chain_hash(head, leaf)
                if stored != head:
                    # Sealing would bless a broken chain: stop and let verify name the record.
                    conn.execute("ROLLBACK")
                    raise JournalError(
                        f"{path}: record {record.seq} does not match its chain; not sealed",
                        "run `carine journal verify` and keep the folder as evidence")
                leaves += leaf
                count += 1
                first = record.at if first is None else min(first, record.at)
                last = record.at if last is None else max(last, record.at)
            if mark:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('sealed', ?)", (head.hex(),))
            conn.execute("COMMIT")
        finally:
            conn.close()
    return {"kind": kind, "day": day.isoformat(), "count": count, "head": head.hex(),
            "root": merkle.root(bytes(leaves)).hex(), "first_at": first, "last_at": last}


def seal_due(root: Path, now: datetime, grace: timedelta = GRACE) -> list[str]:
    """Seal every day that ended more than ``grace`` ago and is not sealed yet; returns lines
    saying what was sealed. ``now`` comes from the caller's clock (``appliance.clock``)."""
    latest = (now - grace).date() - timedelta(days=1)
    done: list[str] = []
    with ledger.locked(root):
        sealed = last_entries(root)
        entries = []
        for kind in KINDS:
            days = segment_days(root, kind)
            start = sealed[kind] + timedelta(days=1) if kind in sealed else (
                days[0] if days else None)
            if start is None:
                continue
            day = start
            while day <= latest:
                entry = summarise(root, kind, day, mark=True)
                entry.update(type="seal", sealed_at=to_micros(now))
                entries.append(entry)
                done.append(f"sealed {kind} {day}: {entry['count']} records")
                day += timedelta(days=1)
        if entries:
            ledger.append(root, entries)
    return done


def pack_due(root: Path, now: datetime, after: timedelta = PACK_AFTER
             ) -> list[str]:
    """Pack every sealed day that ended more than ``after`` ago and is not packed yet; each
    gets a ``pack`` line in the ledger (kind, day, digest of its blocks, count) once packed (a
    stop in between is caught up at the next call: the file says it is packed)."""
    latest = (now - after).date() - timedelta(days=1)
    done: list[str] = []
    with ledger.locked(root):
        sealed: set[tuple[str, str]] = set()
        packs: set[tuple[str, str]] = set()
        for _, _, entry in ledger.read(root):
            if entry and entry.get("type") in ("seal", "pack"):
                (sealed if entry["type"] == "seal" else packs).add((entry["kind"], entry["day"]))
        for kind in KINDS:
            for day in segment_days(root, kind):
                key = (kind, day.isoformat())
                if day > latest or key not in sealed or key in packs:
                    continue
                conn = segment.connect(segment.segment_path(root, kind, day), kind, day)
                try:
                    if packed.is_packed(conn):  # packed, then stopped before its ledger line
                        digest, blocks = packed.digest(conn)
                        count = conn.execute("SELECT sum(count) FROM blocks").fetchone()[0]
                    else:
                        digest, blocks, count = packed.pack(conn, kind, day)
                finally:
                    conn.close()
                ledger.append(root, [{"type": "pack", "kind": kind, "day": day.isoformat(),
                                      "digest": digest, "blocks": blocks, "count": count,
                                      "packed_at": to_micros(now)}])
                done.append(f"packed {kind} {day}: {count} records in {blocks} blocks")
    return done
