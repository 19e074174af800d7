"""Sealed segments, packed: records sorted by what the queries look up (host, IP, public port),
cut into zstd blocks with their key range; the ledger seals the blocks' digest (a ``pack`` line).

A packed segment keeps its SQLite file, meta and an empty ``records`` table; the rows live in
``blocks``. Each block is one zstd frame of lines ``seq TAB at TAB ip TAB login TAB host TAB pub
TAB port TAB body`` (None as an empty field), in key order; the chain column is dropped (every
link is recomputed from the records and checked against the seal)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import zstandard

from appliance.journal import visits
from appliance.journal.records import Record

LEVEL = 9  # ~3x smaller than level 3 on navigation records, still ~40k records/s to pack
BLOCK_RECORDS = 4096  # ~1 MiB of text: a query decompresses a few blocks, not the day
# "Who had IP X at T" reads one block of sessions and of NAT: small blocks keep that lookup in
# a millisecond or two (they are a few % of the records, so compression hardly changes).
LOOKUP_BLOCK_RECORDS = 256
LOOKUP_KINDS = frozenset({"session", "auth", "nat"})
PACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY, lo TEXT NOT NULL, hi TEXT NOT NULL, count INTEGER NOT NULL,
    hash BLOB NOT NULL, data BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS blocks_by_hi ON blocks (hi)
"""
# The key each kind's records are sorted and looked up by, from the index columns
# (ip, login, host, pub, port): the navigation host (reversed), the IP, the public IP and port.
KEY_SQL = {"navigation": "host", "session": "ip", "auth": "ip", "directory": "login",
           "nat": "coalesce(pub, '') || '|' || "
                  "CASE WHEN port IS NULL THEN '' ELSE printf('%05d', port) END",
           "admin": "''", "read": "''"}
Index = tuple[str | None, str | None, str | None, str | None, int | None]


def key_of(kind: str, index: Index) -> str:
    """The sort key of one record (same as KEY_SQL, in Python)."""
    ip, login, host, pub, port = index
    if kind == "navigation":
        return str(host or "")
    if kind in ("session", "auth"):
        return str(ip or "")
    if kind == "nat":
        return f"{pub or ''}|{port:05d}" if port is not None else f"{pub or ''}|"
    if kind == "directory":
        return str(login or "")
    return ""


def nat_key(pub: str, port: int | None) -> tuple[str, str]:
    """The key range of a public IP (and port) in a packed nat segment."""
    if port is None:
        return f"{pub}|", f"{pub}|~"
    return (f"{pub}|{port:05d}",) * 2


def _field(value: object) -> str:
    return "" if value is None else str(value)


def encode(seq: int, at: int, index: Index, body: str) -> str:
    return "\t".join((str(seq), str(at), *(_field(v) for v in index), body))


def decode(line: str) -> tuple[int, int, Index, str]:
    seq, at, ip, login, host, pub, port, body = line.split("\t", 7)
    return (int(seq), int(at), (ip or None, login or None, host or None, pub or None,
                                int(port) if port else None), body)


def normal_index(index: Sequence[object]) -> Index:
    """Index values as a packed line gives them back (str, int port, None for empty)."""
    ip, login, host, pub, port = index
    return (_field(ip) or None, _field(login) or None, _field(host) or None,
            _field(pub) or None, int(str(port)) if port is not None and port != "" else None)


def is_packed(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'blocks'").fetchone() \
        is not None


def digest(conn: sqlite3.Connection) -> tuple[str, int]:
    """SHA-256 over every block's own hash, in block order, and the block count: what the
    ledger's pack line seals."""
    whole = hashlib.sha256()
    count = 0
    for (block_hash,) in conn.execute("SELECT hash FROM blocks ORDER BY id"):
        whole.update(bytes(block_hash))
        count += 1
    return whole.hexdigest(), count


def block_hash(kind: str, day: date, block: int, data: bytes) -> bytes:
    return hashlib.sha256(f"carine-journal-block\n{kind}\n{day}\n{block}\n".encode() + data)\
        .digest()


def pack(conn: sqlite3.Connection, kind: str, day: date) -> tuple[str, int, int]:
    """Rewrite a sealed segment in packed form, in one transaction (readers see the rows or the
    blocks, never neither), then VACUUM. Returns (digest, blocks, records)."""
    compressor = zstandard.ZstdCompressor(level=LEVEL)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in filter(str.strip, PACK_SCHEMA.split(";")):
            conn.execute(statement)
        sql = (f"SELECT {KEY_SQL[kind]} AS k, seq, at, body, ip, login, host, pub, port "  # noqa: S608
               "FROM records ORDER BY k, at, seq")
        size = LOOKUP_BLOCK_RECORDS if kind in LOOKUP_KINDS else BLOCK_RECORDS
        block: list[str] = []
        lo = hi = ""
        number = total = 0

        def flush() -> None:
            nonlocal number
            number += 1
            data = compressor.compress(("\n".join(block) + "\n").encode())
            conn.execute("INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?)",
                         (number, lo, hi, len(block), block_hash(kind, day, number, data), data))
            block.clear()

        for key, seq, at, body, *index in conn.execute(sql):
            key = key or ""
            if not block:
                lo = key
            block.append(encode(seq, at, normal_index(index), body))
            hi = key
            total += 1
            if len(block) >= size:
                flush()
        if block:
            flush()
        if kind == "navigation":  # "who visited": the busiest hosts summed once, here
            visits.write_sums(conn)
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' "
                                    "AND tbl_name = 'records' AND sql IS NOT NULL").fetchall():
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("DELETE FROM records")
        found = digest(conn)
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('packed', ?)", (found[0],))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("VACUUM")
    return found[0], found[1], total


def rows(conn: sqlite3.Connection, lo: str | None = None, hi: str | None = None,
         ) -> Iterator[tuple[int, str, list[tuple[int, int, Index, str]]]]:
    """(block id, its key 'lo', decoded lines) of the blocks that may hold keys in [lo, hi]
    (every block without bounds); callers filter the lines by key and time."""
    decompressor = zstandard.ZstdDecompressor()
    if lo is None:
        cursor: Any = conn.execute("SELECT id, lo, data FROM blocks ORDER BY id")
    else:
        first = conn.execute("SELECT id FROM blocks WHERE hi >= ? ORDER BY hi, id LIMIT 1",
                             (lo,)).fetchone()
        if first is None:
            return
        cursor = conn.execute("SELECT id, lo, data FROM blocks WHERE id >= ? ORDER BY id",
                              (first[0],))
    for block, block_lo, data in cursor:
        if hi is not None and block_lo > hi:
            return
        text = decompressor.decompress(bytes(data)).decode()
        yield block, block_lo, [decode(line) for line in text.split("\n") if line]


def records(conn: sqlite3.Connection, kind: str, lo: str | None = None,
            hi: str | None = None) -> Iterator[tuple[Record, Index]]:
    """Records whose key lies in [lo, hi] (all without bounds), in key order."""
    for _, _, lines in rows(conn, lo, hi):
        for seq, at, index, body in lines:
            if lo is not None and hi is not None and not lo <= key_of(kind, index) <= hi:
                continue
            yield Record(kind, seq, at, body), index


def leaves(conn: sqlite3.Connection, kind: str, day: date,
           problem: Any = None) -> tuple[bytes, int]:
    """Every record's leaf hash in seq order, and the count, checking on the way (``problem``
    gets a text for each): block hashes, index columns against the body, keys inside their
    block's range, seqs 1..count each once."""
    from appliance.journal.segment import index_values

    say = problem or (lambda _text: None)
    total = conn.execute("SELECT coalesce(sum(count), 0) FROM blocks").fetchone()[0]
    out = bytearray(32 * total)
    seen = bytearray(total + 1)
    for block, lo, hi, count, stored, data in conn.execute(
            "SELECT id, lo, hi, count, hash, data FROM blocks ORDER BY id"):
        if block_hash(kind, day, block, bytes(data)) != bytes(stored):
            say(f"block {block} was altered (its hash does not match its bytes)")
        try:
            text = zstandard.ZstdDecompressor().decompress(bytes(data)).decode()
            lines = [decode(line) for line in text.split("\n") if line]
        except (zstandard.ZstdError, UnicodeDecodeError, ValueError):
            say(f"block {block} cannot be decompressed or read")
            continue
        if len(lines) != count:
            say(f"block {block} holds {len(lines)} records, says {count}")
        for seq, at, index, body in lines:
            record = Record(kind, seq, at, body)
            if not 1 <= seq <= total or seen[seq]:
                say(f"record {seq} in block {block} is out of range or repeated")
                continue
            seen[seq] = 1
            out[32 * (seq - 1):32 * seq] = record.leaf()
            try:
                if normal_index(index_values(record.fields())) != index:
                    say(f"record {seq}: index columns differ from its content")
            except ValueError:
                say(f"record {seq}: content is not JSON")
            if not lo <= key_of(kind, index) <= hi:
                say(f"record {seq} lies outside its block's key range")
    missing = [n for n in range(1, total + 1) if not seen[n]]
    if missing:
        say(f"{len(missing)} records missing from the blocks (first: {missing[0]})")
    return bytes(out), total
