"""``carine journal verify``: recompute every chain, seal and ledger link and name each record,
segment or seal that was altered, reordered, inserted, removed or is missing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from appliance.journal import anchor, ledger, merkle, packed, segment, visits
from appliance.journal.records import KINDS, chain_hash, genesis
from appliance.journal.seal import segment_days

MAX_PER_SEGMENT = 20


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    segments: int = 0
    records: int = 0
    seals: int = 0
    packs: dict[tuple[str, str], str] = field(default_factory=dict)  # digest of packed days

    @property
    def ok(self) -> bool:
        return not self.problems


def check_segment(root: Path, kind: str, day: date, report: Report) -> dict[str, Any]:
    """Walk one segment; each record must follow its predecessor (seq and chain) and its index
    columns must match its body. Returns the recomputed count, head and root."""
    path = segment.segment_path(root, kind, day)
    where = f"segment {kind}/{day}"
    head = genesis(kind, day)
    leaves = bytearray()
    count, shown, expected, previous = 0, 0, 1, head
    sealed_mark = None

    def problem(text: str) -> None:
        nonlocal shown
        shown += 1
        if shown <= MAX_PER_SEGMENT:
            report.problems.append(f"{where}: {text}")

    try:
        conn = segment.connect(path, kind, day, create=False)
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("kind") != kind or meta.get("day") != day.isoformat():
            problem(f"says it holds {meta.get('kind')}/{meta.get('day')}: moved or replaced")
        sealed_mark = meta.get("sealed")
        if packed.is_packed(conn):
            digest = packed.digest(conn)[0]
            if meta.get("packed") != digest:
                problem("blocks differ from the digest recorded when the day was packed")
            report.packs[(kind, day.isoformat())] = digest
            found, count = packed.leaves(conn, kind, day, problem)
            if kind == "navigation":
                visits.check_sums(conn, problem)
            leaves += found
            for n in range(count):
                head = chain_hash(head, found[32 * n:32 * n + 32])
        last_seq, last_chain = 0, None
        for record, stored, index in segment.iter_records(conn, kind):
            last_seq, last_chain = record.seq, stored
            if record.seq != expected:
                if record.seq == expected + 1:
                    what = f"record {expected} is missing"
                elif record.seq > expected:
                    what = f"records {expected}..{record.seq - 1} are missing"
                else:
                    what = f"record {record.seq} is out of order"
                problem(what)
            leaf = record.leaf()
            if chain_hash(previous, leaf) != stored:
                problem(f"record {record.seq} was altered, inserted or moved "
                        "(its hash does not follow the previous record)")
            try:
                if segment.index_values(record.fields()) != index:
                    problem(f"record {record.seq}: index columns differ from its content")
            except ValueError:
                problem(f"record {record.seq}: content is not JSON")
            previous, expected = stored, record.seq + 1
            head = chain_hash(head, leaf)
            leaves += leaf
            count += 1
        if sealed_mark is None:  # open: its anchored head catches a cut tail
            for text in anchor.problems(ledger.key(root), kind, day, meta.get(anchor.META_KEY),
                                        last_seq, last_chain):
                problem(text)
        conn.close()
    except sqlite3.Error as exc:
        problem(f"cannot be read: {exc}")
    if shown > MAX_PER_SEGMENT:
        report.problems.append(f"{where}: ... and {shown - MAX_PER_SEGMENT} more problems")
    report.segments += 1
    report.records += count
    return {"count": count, "head": head.hex(), "root": merkle.root(bytes(leaves)).hex(),
            "mark": sealed_mark}


def _ledger(root: Path, report: Report, packs: dict[tuple[str, str], dict[str, Any]]
            ) -> dict[tuple[str, str], dict[str, Any]]:
    secret = ledger.key(root)
    if secret is None and (root / ledger.LEDGER).exists():
        report.problems.append(f"seal key {root / ledger.KEY} is missing: seals unauthenticated")
    previous = ledger.ZERO
    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for number, text, entry in ledger.read(root):
        where = f"seal ledger line {number}"
        if entry is None:
            report.problems.append(f"{where}: damaged (not JSON)")
            previous = ledger.line_hash(text)
            continue
        if entry.get("prev") != previous:
            report.problems.append(f"{where}: does not follow the previous line "
                                   "(a seal was removed, inserted or reordered)")
        if secret is not None and entry.get("hmac") != ledger.mac(secret, entry):
            report.problems.append(f"{where}: broken seal (HMAC does not match)")
        previous = ledger.line_hash(text)
        key = (str(entry.get("kind")), str(entry.get("day")))
        if entry.get("type") == "pack":
            if key in packs:
                report.problems.append(f"{where}: {key[0]}/{key[1]} packed twice")
            packs[key] = entry
        elif entry.get("type") == "purge":
            entries[key] = entry
        elif key in entries:
            report.problems.append(f"{where}: {key[0]}/{key[1]} sealed twice")
        else:
            entries[key] = entry
            report.seals += 1
    return entries


def verify(root: Path) -> Report:
    """Check the whole journal folder."""
    report = Report()
    packs: dict[tuple[str, str], dict[str, Any]] = {}
    entries = _ledger(root, report, packs)
    for kind in KINDS:
        days = {date.fromisoformat(d) for k, d in entries if k == kind}
        on_disk = set(segment_days(root, kind))
        if days:
            first, last = min(days), max(days)
            day = first
            while day <= last:
                if day not in days:
                    report.problems.append(f"segment {kind}/{day}: no seal in the ledger "
                                           "(seal removed, or day skipped)")
                day += timedelta(days=1)
        last_sealed = max(days) if days else date.min
        for day in sorted(days | on_disk):
            entry = entries.get((kind, day.isoformat()))
            where = f"segment {kind}/{day}"
            if entry is None:
                if day <= last_sealed:
                    report.problems.append(f"{where}: file without a seal (added afterwards?)")
                else:
                    check_segment(root, kind, day, report)  # still open: its chain only
                continue
            if entry.get("type") == "purge":
                if day in on_disk:
                    report.problems.append(f"{where}: purged in the ledger but still on disk")
                continue
            if day not in on_disk:
                if entry.get("count"):
                    report.problems.append(f"{where}: missing ({entry['count']} records sealed)")
                continue
            found = check_segment(root, kind, day, report)
            for name in ("count", "head", "root"):
                if found[name] != entry.get(name):
                    report.problems.append(f"{where}: {name} {found[name]} differs from its seal "
                                           f"({entry.get(name)}): records changed after sealing")
            if found["mark"] != entry.get("head"):
                report.problems.append(f"{where}: seal mark inside the file differs from the "
                                       "ledger")
            pack = packs.get((kind, day.isoformat()))
            digest = report.packs.get((kind, day.isoformat()))
            if pack is not None and digest is None:
                report.problems.append(f"{where}: packed in the ledger but not on disk "
                                       "(blocks replaced by rows?)")
            elif digest is not None and (pack is None or pack.get("digest") != digest):
                report.problems.append(f"{where}: packed blocks differ from the ledger's pack "
                                       "line (or it has none)")
    return report
