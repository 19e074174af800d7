"""What the backend holds while FreeRADIUS runs: its settings, one state-store connection per
FreeRADIUS thread, the journal (one writer at a time), the certificate registry (reread when it
changes). Nothing here ever sees a password or a secret in clear."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from appliance.directory.schema import prepare as prepare_directory
from appliance.journal import Journal, JournalError
from appliance.journal.records import Fields
from appliance.sessions.store import prepare as prepare_sessions
from appliance.state import connect
from network.radius.issued import Issued, load_registry
from network.radius.paths import RadiusPaths
from network.radius.settings import Settings

log = logging.getLogger("carine.radius")


class Context:
    """Shared by every FreeRADIUS thread; each thread gets its own SQLite connection."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.zone_vlans = settings.zone_vlans
        self.paths = RadiusPaths(Path(settings.radius_state))
        self._local = threading.local()
        self._journal_lock = threading.Lock()
        self._journal: Journal | None = None
        self._registry: dict[str, Issued] = {}
        self._registry_mtime = -1.0
        self._registry_lock = threading.Lock()
        self._prepared = False

    def db(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(Path(self.settings.state))
            if not self._prepared:  # tables of a fresh store (the lab, tests)
                prepare_directory(conn)
                prepare_sessions(conn)
                self._prepared = True
            self._local.conn = conn
        return conn

    def journal(self, kind: str, fields: Fields) -> None:
        """Append to the legal journal; a journal that cannot be written is logged loudly but
        never turns an answer into a timeout (the access point would retry in a loop)."""
        clean = {k: v for k, v in fields.items() if v is not None}
        with self._journal_lock:
            try:
                if self._journal is None:
                    self._journal = Journal.open(Path(self.settings.journal))
                self._journal.append(kind, clean)
            except (JournalError, sqlite3.Error, OSError) as exc:
                log.error("journal %s not written: %s", kind, exc)

    def certificate(self, serial: str) -> Issued | None:
        """The registry entry of a client certificate serial (hex, no leading zeros)."""
        path = self.paths.registry
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            return None
        with self._registry_lock:
            if mtime != self._registry_mtime:
                self._registry = {r.serial.lstrip("0") or "0": r
                                  for r in load_registry(self.paths)}
                self._registry_mtime = mtime
            return self._registry.get(serial)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        if self._journal is not None:
            self._journal.close()
