"""The journal as its writers see it: ``Journal.open(folder)``, ``append`` and ``append_many``.

Safe with several writing processes (a segment's write lock serialises them); cheap in bulk."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType

from appliance.clock import SYSTEM, Clock
from appliance.journal import ledger, segment
from appliance.journal.records import (
    Fields,
    JournalError,
    canonical,
    check_kind,
    day_of,
    to_micros,
)

DEFAULT_ROOT = Path("/var/lib/carine/journal")


class Journal:
    """An open journal folder; one SQLite connection per segment in use, closed by ``close``."""

    def __init__(self, root: Path, bulk: bool = False, clock: Clock = SYSTEM) -> None:
        self.root = root
        self.bulk = bulk
        self.clock = clock
        self._secret: bytes | None = None  # the seal key, read on the first write
        self._open: dict[tuple[str, date], sqlite3.Connection] = {}

    @classmethod
    def open(cls, root: Path = DEFAULT_ROOT, *, bulk: bool = False,
             clock: Clock = SYSTEM) -> Journal:
        """Open the journal in ``root``, creating the folder readable by its owner only (0700).

        ``bulk=True`` is for ingesters appending big batches (see ``segment.connect``); records
        without a time are stamped by ``clock``."""
        try:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot create the journal folder {root}: {exc}",
                               "the journal lives under /var/lib/carine; run as its owner") from exc
        if not os.access(root, os.W_OK | os.X_OK):
            raise JournalError(f"the journal folder {root} is not writable by this process")
        return cls(root, bulk, clock)

    def append(self, kind: str, fields: Fields, at: datetime | None = None) -> None:
        """Add one record of ``kind`` at ``at`` (UTC aware; None = now)."""
        self.append_many(kind, [fields], at=[at])

    def append_many(self, kind: str, rows: Iterable[Fields],
                    at: Iterable[datetime | None] | None = None) -> int:
        """Add many records of one kind in as few transactions as possible; returns the count.

        ``at`` gives each row's time (same order); without it every row is stamped now."""
        check_kind(kind)
        times = iter(at) if at is not None else None
        now = to_micros(self.clock.now())
        by_day: dict[date, list[tuple[int, str, tuple[object, ...]]]] = {}
        count = 0
        for fields in rows:
            when = now
            if times is not None:
                given = next(times)
                when = now if given is None else to_micros(given)
            body = canonical(fields)
            by_day.setdefault(day_of(when), []).append(
                (when, body, segment.index_values(fields)))
            count += 1
        for day, batch in sorted(by_day.items()):
            self._write(kind, day, batch)
        return count

    def append_micros(self, kind: str, rows: Sequence[tuple[int, str, tuple[object, ...]]]) -> None:
        """Bulk path for ingesters that already hold (time µs, canonical body, index values)."""
        check_kind(kind)
        by_day: dict[date, list[tuple[int, str, tuple[object, ...]]]] = {}
        for row in rows:
            by_day.setdefault(day_of(row[0]), []).append(row)
        for day, batch in sorted(by_day.items()):
            self._write(kind, day, batch)

    def _write(self, kind: str, day: date,
               batch: list[tuple[int, str, tuple[object, ...]]]) -> None:
        if self._secret is None:
            self._secret = ledger.key(self.root, create=True)
        secret = self._secret
        if segment.append_rows(self.connection(kind, day), kind, day, batch, secret) is not None:
            return
        # That day is sealed already (a record that arrives late, e.g. an ingester that was
        # stopped): it goes into today's open segment with its own time; queries look there too.
        today = self.clock.now().date()
        if today == day or segment.append_rows(self.connection(kind, today), kind, today,
                                               batch, secret) is None:
            raise JournalError(f"the {kind} segment of {today} is sealed already",
                               "the clock went back? check NTP")

    def connection(self, kind: str, day: date) -> sqlite3.Connection:
        key = (kind, day)
        conn = self._open.get(key)
        if conn is None:
            conn = segment.connect(segment.segment_path(self.root, kind, day), kind, day,
                                   bulk=self.bulk)
            if len(self._open) > (4 if self.bulk else 16):  # a long-running writer moves on
                self.close()
            self._open[key] = conn
        return conn

    def close(self) -> None:
        for conn in self._open.values():
            conn.close()
        self._open.clear()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
