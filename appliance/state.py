"""The runtime state store: one SQLite file (WAL) under /var/lib/carine, shared by the console,
the portal, the filtering helpers and the importers. Each component migrates its own tables."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from appliance.errors import CarineError

STATE_FILE = "state.sqlite"


def connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the store at ``path`` (created if missing, unless ``readonly``).

    WAL lets many readers (helper processes) work while one writer commits; a busy writer
    makes others wait up to 5 s instead of failing at once."""
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5,
                                   check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            _create_shared(path)
            conn = sqlite3.connect(path, timeout=5, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL syncs at checkpoints, not at every commit: a power cut may lose
            # the last second of refusals, never the database.
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error as exc:
        raise CarineError(f"cannot open the state store {path}: {exc}",
                          "check that /var/lib/carine exists and is writable") from exc
    conn.row_factory = sqlite3.Row
    return conn


def _create_shared(path: Path) -> None:
    """Create the store readable and writable by its group only (0660): the processes that share
    it (Squid's helpers, the block page, the console) meet in the state folder's group, and
    SQLite gives its -wal and -shm files the same mode."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o660)
    except FileExistsError:
        return
    os.fchmod(fd, 0o660)  # whatever the umask
    os.close(fd)


def migrate(conn: sqlite3.Connection, component: str, steps: Sequence[str]) -> None:
    """Bring ``component``'s tables to the last of ``steps`` (each step one SQL script).

    Steps are append-only: step N is applied once, in a transaction, and recorded."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions ("
                 "component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?",
                       (component,)).fetchone()
    done = row[0] if row else 0
    for number, script in enumerate(steps[done:], start=done + 1):
        try:
            conn.execute("BEGIN")
            for statement in filter(str.strip, script.split(";")):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                         "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                         (component, number))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise CarineError(f"state store migration {component} #{number} failed: {exc}") \
                from exc


def data_version(conn: sqlite3.Connection) -> int:
    """Changes when another connection commits: a cheap way for readers to know to reload."""
    return int(conn.execute("PRAGMA data_version").fetchone()[0])
