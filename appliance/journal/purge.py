"""Retention: segments older than their kind's retention are deleted after a purge line in the
ledger (kind, day, count, head), so verify knows the day was removed on purpose."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.journal import ledger, segment
from appliance.journal.records import KINDS, to_micros
from appliance.journal.seal import seal_due

DEFAULT_RETENTION_DAYS = 365  # CPCE L34-1 / R10-13: one year for connection data (D-LOG-1)


def _remove(root: Path, kind: str, day: date) -> None:
    path = segment.segment_path(root, kind, day)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def purge(root: Path, retention: Mapping[str, int], now: datetime) -> list[str]:
    """Seal what is due, then remove every sealed day older than its kind's retention."""
    said = seal_due(root, now)
    with ledger.locked(root):
        seals: dict[tuple[str, str], dict[str, object]] = {}
        purged: set[tuple[str, str]] = set()
        for _, _, entry in ledger.read(root):
            if entry is None:
                continue
            key = (str(entry.get("kind")), str(entry.get("day")))
            if entry.get("type") == "purge":
                purged.add(key)
            elif entry.get("type") != "pack":  # a pack line says how, not what, is kept
                seals[key] = entry
        entries: list[dict[str, Any]] = []
        for (kind, day_text), seal in sorted(seals.items()):
            keep = retention.get(kind, DEFAULT_RETENTION_DAYS)
            if kind not in KINDS or (kind, day_text) in purged:
                continue
            if date.fromisoformat(day_text) < now.date() - timedelta(days=keep):
                entries.append({"type": "purge", "kind": kind, "day": day_text,
                                "count": seal.get("count"), "head": seal.get("head"),
                                "retention_days": keep, "purged_at": to_micros(now)})
        if entries:
            ledger.append(root, entries)  # first the ledger, then the files: never a silent gap
        for kind, day_text in sorted(purged | {(e["kind"], e["day"]) for e in entries}):
            _remove(root, kind, date.fromisoformat(day_text))
        said += [f"purged {e['kind']} {e['day']}: {e['count']} records "
                 f"(older than {e['retention_days']} days)" for e in entries]
    return said
