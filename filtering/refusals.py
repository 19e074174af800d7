"""Refusals on their way to the store ("recently blocked", D-FIL-5), written by a thread of
their own so that a decision never waits for the disk (a WAL checkpoint can take a while).

The helper hands a batch over about once a second: Python's own refusals as a dictionary, the
compiled lane's as its raw text (parsed here, off the decision path). Rows are written in
order, a few thousand per transaction (the latest refusal per client and host wins), so a flood
of refusals costs neither decisions nor more than a chunk's worth of memory."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from appliance.errors import CarineError
from appliance.state import connect
from filtering import store

log = logging.getLogger("carine.filter")
Key = tuple[str, str]  # client, host
Refusal = tuple[str, str, str, datetime]  # category, reason, profile, when
# The lane's text ("client\thost\tanswer id\n" lines), (category, reason, profile) by answer
# id, and when.
LaneBatch = tuple[bytes, list[tuple[str, str, str]], datetime]


CHUNK = 2_000  # rows per transaction: bounds the writer's memory whatever the flood
# New hosts a device may add to its "recently blocked" list per flush (about a second): a page
# of them is all a person reads, while a device looping on blocked names (malware, an app that
# retries) would otherwise cost a store write each. Each refusal is still answered, and logged
# by Squid; the compiled lane applies the same limit (kListedPerClient).
LISTED_PER_CLIENT = 20


def rows(batch: dict[Key, Refusal] | LaneBatch) -> Iterator[list[store.BlockRow]]:
    """The rows of ``batch`` for store.record_blocks, in chunks, in the order given."""
    if isinstance(batch, dict):
        items = [(*key, *rest) for key, rest in batch.items()]
        for at in range(0, len(items), CHUNK):
            yield items[at:at + CHUNK]
        return
    text, records, when = batch
    chunk: list[store.BlockRow] = []
    start = 0
    while start < len(text):
        end = text.find(b"\n", start)
        end = len(text) if end < 0 else end
        client, host, answer_id = text[start:end].decode("ascii", "replace").split("\t")
        start = end + 1
        chunk.append((client, host, *records[int(answer_id)], when))
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class RefusalWriter:
    """A writer thread with its own connection to the store at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._waiting: list[dict[Key, Refusal] | LaneBatch] = []
        self._busy = False  # a batch is being written
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="carine-refusals", daemon=True)
        self._thread.start()

    def submit(self, refusals: dict[Key, Refusal] | LaneBatch) -> None:
        """Queue ``refusals`` for writing (returns at once)."""
        empty = not refusals[0] if isinstance(refusals, tuple) else not refusals
        if empty:
            return
        with self._cond:
            self._waiting.append(refusals)
            self._cond.notify()

    def wait(self) -> None:
        """Return once everything submitted so far is written (or has failed to be)."""
        with self._cond:
            self._cond.wait_for(lambda: not self._waiting and not self._busy)

    def close(self) -> None:
        """Write what is waiting, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._waiting or self._closed)
                if not self._waiting:  # closed, and nothing left
                    self._cond.notify_all()
                    break
                waiting, self._waiting, self._busy = self._waiting, [], True
            try:
                if conn is None:
                    conn = connect(self.path)
                    conn.execute("PRAGMA cache_size = -256")  # see Decider: keep it small
                for item in waiting:
                    for chunk in rows(item):
                        store.record_blocks(conn, chunk)
            except (sqlite3.Error, CarineError, ValueError, IndexError) as exc:
                # Never let the record stop filtering: say so, and go on with the next batch.
                log.error("cannot record refusals: %s", exc)
                conn = None
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        if conn is not None:
            conn.close()
