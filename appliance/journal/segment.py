"""One segment: the records of one kind for one UTC day, in one SQLite file (the chain columns and
the index columns side by side), so appending, chaining and indexing are one transaction."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

from appliance.journal import anchor
from appliance.journal.records import Record, chain_hash, genesis, leaf_hash

# Columns copied out of the body for the queries; verify checks they still match the body.
INDEX_COLUMNS = ("ip", "login", "host", "pub", "port")
# Which columns each kind indexes: enough for "who had IP X at T" (session, nat), "who visited
# H on day D" (navigation, host stored reversed so a domain is a prefix range) and exports by IP
# or user; every other index would slow the 20,000 records/s ingestion for nothing.
INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "session": (("ip", "at"), ("login", "at")),
    "nat": (("pub", "port", "at"), ("ip", "at")),
    # Covering: "who visited H" reads login, IP and time from the index alone; without it the
    # busiest host (~400,000 requests a day) cost 4.4 s of row lookups, with it well under 2 s.
    "navigation": (("host", "at", "login", "ip"), ("ip", "at"), ("login", "at")),
    "auth": (("ip", "at"), ("login", "at")),
    "admin": (),
    "read": (),
    "directory": (("login", "at"),),
}
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL, chain BLOB NOT NULL,
    ip TEXT, login TEXT, host TEXT, pub TEXT, port INTEGER);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
"""


def segment_path(root: Path, kind: str, day: date) -> Path:
    return root / kind / f"{day.isoformat()}.sqlite"


def index_values(fields: Mapping[str, object]) -> tuple[object, ...]:
    """The index columns of one record, derived from its fields only."""
    host = fields.get("host")
    login = fields.get("login")
    if login is None:
        login = fields.get("actor")
    return (fields.get("ip"), login,
            reverse_host(host) if isinstance(host, str) else None,
            fields.get("pub_ip"), fields.get("pub_port"))


def reverse_host(host: str) -> str:
    """www.example.org -> org.example.www. : a domain and all its subdomains share a prefix."""
    return ".".join(reversed(host.lower().rstrip(".").split("."))) + "."


def connect(path: Path, kind: str, day: date, *, create: bool = True,
            bulk: bool = False) -> sqlite3.Connection:
    """Open (or create, 0600) a segment file; WAL lets queries run while an ingester appends.

    ``bulk`` is for ingesters: a day's host index takes random inserts, so each batch dirties
    thousands of pages. A 256 MiB page cache keeps the index in memory, and checkpointing only
    every 100,000 WAL pages writes a page dirtied by many batches once instead of once each
    (measured: 11,000 -> 40,000 records/s on 2 M records, bench/journal.py has the full run)."""
    if create and not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = sqlite3.connect(path if create else f"file:{path}?mode=ro", uri=not create,
                           timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=30000")
    if create:
        _wal(conn)
        # A power cut may lose the last commits, never corrupt the chain (WAL + NORMAL).
        conn.execute("PRAGMA synchronous=NORMAL")
        if bulk:
            conn.execute("PRAGMA cache_size=-262144")
            conn.execute("PRAGMA wal_autocheckpoint=100000")
            conn.execute("PRAGMA journal_size_limit=67108864")  # WAL cut back after checkpoints
        conn.execute("BEGIN IMMEDIATE")
        for statement in filter(str.strip, SCHEMA.split(";")):
            conn.execute(statement)
        for columns in INDEXES[kind]:
            name = "by_" + "_".join(columns)
            conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON records ({', '.join(columns)})")
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('kind', ?), ('day', ?)",
                     (kind, day.isoformat()))
        conn.execute("COMMIT")
    return conn


def _wal(conn: sqlite3.Connection, patience: float = 30.0) -> None:
    """Switch a segment to WAL. When several writers create the same new segment at once,
    SQLite answers the switch with "database is locked" at once, without waiting for the
    busy timeout (to avoid a deadlock): try again, for as long as the busy timeout."""
    deadline = time.monotonic() + patience
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def is_sealed(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM meta WHERE key = 'sealed'").fetchone() is not None


def append_rows(conn: sqlite3.Connection, kind: str, day: date,
                rows: Sequence[tuple[int, str, tuple[object, ...]]],
                secret: bytes | None = None) -> int | None:
    """Chain and insert ``rows`` (time, body, index values) in one write transaction; with
    the seal key ``secret``, the new head is anchored in the same transaction (anchor.py).

    BEGIN IMMEDIATE takes the segment's write lock before reading the chain head, so two
    processes appending at once serialise instead of forking the chain. Returns the last seq,
    or None if the segment was sealed meanwhile (the caller writes the rows elsewhere)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if is_sealed(conn):
            conn.execute("ROLLBACK")
            return None
        head = conn.execute("SELECT seq, chain FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        seq, previous = (head[0], head[1]) if head else (0, genesis(kind, day))
        out = []
        for at, body, index in rows:
            seq += 1
            previous = chain_hash(previous, leaf_hash(kind, seq, at, body))
            out.append((seq, at, body, previous, *index))
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", out)
        if secret is not None and out:
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                         (anchor.META_KEY, anchor.text(secret, kind, day, seq, previous)))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return seq


Stored = tuple[Record, bytes, tuple[object, ...]]


def iter_records(conn: sqlite3.Connection, kind: str, where: str = "",
                 params: Sequence[object] = ()) -> Iterator[Stored]:
    """Records in seq order (or as ``where`` selects) with their stored chain and index values."""
    # Only our own constant column names and callers' fixed clauses are formatted in; values
    # always go through parameters.
    sql = f"SELECT seq, at, body, chain, {', '.join(INDEX_COLUMNS)} FROM records"  # noqa: S608
    if where:
        sql += f" WHERE {where}"
    sql += " ORDER BY seq"
    for row in conn.execute(sql, params):
        yield Record(kind, row[0], row[1], row[2]), bytes(row[3]), tuple(row[4:])
