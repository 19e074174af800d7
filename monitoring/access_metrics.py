"""Access and journal families at scrape time: portal logins by result (the portal's counter
file), open sessions by method (the state store, through its open-sessions index), and the legal
journal's health (file times and sizes, the seal ledger's tail: no record is read)."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from appliance.journal.ledger import LEDGER
from appliance.journal.records import KINDS
from appliance.journal.seal import GRACE
from appliance.sessions.store import Method
from monitoring.catalogue import BY_NAME
from network.portal import counters

JOURNAL_EVERY = 30.0  # seconds a journal reading is reused: a scrape must stay cheap
LEDGER_TAIL = 16384  # bytes read from the end of the ledger: several days of seals


def logins(run: Path, uai: str) -> CounterMetricFamily:
    spec = BY_NAME["carine_portal_logins_total"]
    family = CounterMetricFamily(spec.name.removesuffix("_total"), spec.help,
                                 labels=("uai", *spec.labels))
    for result, count in sorted(counters.read(run).items()):
        family.add_metric([uai, result], count)
    return family


def sessions(store: Path, uai: str, now: float) -> GaugeMetricFamily:
    """Open sessions by method, every method present (0 when none); none if no store."""
    spec = BY_NAME["carine_sessions_active"]
    family = GaugeMetricFamily(spec.name, spec.help, labels=("uai", *spec.labels))
    if not store.exists():
        return family
    try:
        conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1)
        try:
            # ended_at IS NULL goes through the sessions_ended index: the open ones only.
            rows = conn.execute("SELECT method, COUNT(*) FROM sessions WHERE ended_at IS NULL "
                                "AND expires_at > ? GROUP BY method", (now,)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:  # no sessions table yet: nothing to say
        return family
    found = {str(method): float(n) for method, n in rows}
    for method in Method:
        family.add_metric([uai, method.value], found.get(method.value, 0.0))
    return family


@dataclass(frozen=True)
class JournalHealth:
    writable: bool
    last_append: dict[str, float]  # kind -> time of its last write (segment file times)
    last_seal: float | None  # sealed_at of the ledger's last seal entry
    sealed_through: str | None  # the day of that entry (ISO)
    disk_bytes: int
    overdue: bool  # a finished day (past the grace) that should be sealed and is not

    @property
    def ok(self) -> bool:
        return self.writable and not self.overdue


def _last_seal(root: Path) -> tuple[float | None, str | None]:
    path = root / LEDGER
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - LEDGER_TAIL))
            tail = handle.read().decode("utf-8", errors="replace").splitlines()
    except OSError:
        return None, None
    for line in reversed(tail):
        try:
            doc = json.loads(line)
        except ValueError:
            continue  # the first, cut line of the tail
        if isinstance(doc, dict) and doc.get("type") == "seal":
            return float(doc["sealed_at"]) / 1e6, str(doc["day"])
    return None, None


def journal_health(root: Path, now: float) -> JournalHealth | None:
    """The journal folder's state from file metadata only; None if there is no journal."""
    if not root.is_dir():
        return None
    last: dict[str, float] = {}
    oldest: str | None = None
    size = 0
    with os.scandir(root) as top:
        for entry in top:
            if entry.is_file(follow_symlinks=False):
                size += entry.stat().st_size
            elif entry.is_dir(follow_symlinks=False):
                with os.scandir(entry.path) as files:
                    for item in files:
                        stat = item.stat()
                        size += stat.st_size
                        if entry.name in KINDS and item.name.endswith((".sqlite", "-wal")):
                            last[entry.name] = max(last.get(entry.name, 0.0), stat.st_mtime)
                            day = item.name.split(".", 1)[0]
                            oldest = day if oldest is None else min(oldest, day)
    sealed_at, through = _last_seal(root)
    due = ((datetime.fromtimestamp(now, UTC) - GRACE).date() - timedelta(days=1)).isoformat()
    # The sealer takes every kind through the same last day: behind if that day is before the
    # last finished one, or if nothing was ever sealed while a finished day has records.
    overdue = through < due if through is not None else (oldest is not None and oldest <= due)
    return JournalHealth(os.access(root, os.W_OK | os.X_OK), last, sealed_at, through, size,
                         overdue)


class JournalGauges:
    """The journal families, from a reading at most JOURNAL_EVERY seconds old."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.read_at = -JOURNAL_EVERY
        self.health: JournalHealth | None = None

    def families(self, uai: str, now: float, monotonic: float) -> list[GaugeMetricFamily]:
        if monotonic - self.read_at >= JOURNAL_EVERY:
            self.health = journal_health(self.root, now)
            self.read_at = monotonic
        names = ("carine_journal_ok", "carine_journal_last_append_timestamp_seconds",
                 "carine_journal_last_seal_timestamp_seconds", "carine_journal_disk_bytes")
        ok, append, seal, disk = (
            GaugeMetricFamily(n, BY_NAME[n].help, labels=("uai", *BY_NAME[n].labels))
            for n in names)
        health = self.health
        if health is not None:
            ok.add_metric([uai], float(health.ok))
            for kind, when in sorted(health.last_append.items()):
                append.add_metric([uai, kind], when)
            if health.last_seal is not None:
                seal.add_metric([uai], health.last_seal)
            disk.add_metric([uai], float(health.disk_bytes))
        return [ok, append, seal, disk]
