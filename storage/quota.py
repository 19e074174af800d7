"""Quotas counted by our provider, not by the disk (D-STO-2): each file is charged to its owner
(a home's files to the home's user, elsewhere to who wrote it) in the store's storage_files
table; an upload that would pass the owner's quota stops with 507 and leaves nothing."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from wsgidav.dav_error import DAVError

from appliance.state import migrate

HTTP_INSUFFICIENT_STORAGE = 507
STEPS = ("""
    CREATE TABLE storage_files (
        path TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        size INTEGER NOT NULL);
    CREATE INDEX storage_files_owner ON storage_files(owner)
""",)


def prepare(conn: sqlite3.Connection) -> None:
    migrate(conn, "storage_files", STEPS)


class OverQuota(DAVError):  # type: ignore[misc]
    def __init__(self, login: str, quota: int) -> None:
        super().__init__(HTTP_INSUFFICIENT_STORAGE,
                         f"Quota dépassé / quota exceeded ({login}: {quota} bytes)")


class Ledger:
    """Bytes and files per owner, reserved while uploads stream and settled when they end."""

    def __init__(self, root: Path, conn: Callable[[], sqlite3.Connection],
                 quota_of: Callable[[str], int]) -> None:
        self.root = root
        self.conn = conn
        self.quota_of = quota_of
        self._lock = threading.Lock()
        self.used: dict[str, int] = {}
        self.files: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self.refusals = 0
        for owner, size, count in conn().execute(
                "SELECT owner, SUM(size), COUNT(*) FROM storage_files GROUP BY owner"):
            self.used[owner], self.files[owner] = int(size), int(count)

    def key(self, disk: Path) -> str:
        return str(disk.relative_to(self.root))

    def owner_of(self, disk: Path) -> tuple[str, int] | None:
        row = self.conn().execute("SELECT owner, size FROM storage_files WHERE path = ?",
                                  (self.key(disk),)).fetchone()
        return (row[0], int(row[1])) if row else None

    def available(self, owner: str) -> int:
        with self._lock:
            return max(0, self.quota_of(owner) - self.used.get(owner, 0)
                       - self._pending.get(owner, 0))

    def reserve(self, owner: str, n: int, freed: int) -> None:
        """Hold ``n`` more bytes for ``owner``; ``freed``: what the replaced file gives back."""
        with self._lock:
            total = self.used.get(owner, 0) + self._pending.get(owner, 0) + n - freed
            if total > self.quota_of(owner):
                self.refusals += 1
                raise OverQuota(owner, self.quota_of(owner))
            self._pending[owner] = self._pending.get(owner, 0) + n

    def release(self, owner: str, n: int) -> None:
        with self._lock:
            self._pending[owner] = self._pending.get(owner, 0) - n

    def settle(self, disk: Path, owner: str, size: int) -> None:
        """``disk`` now holds ``size`` bytes of ``owner``'s (replacing what it held)."""
        old = self.owner_of(disk)
        conn = self.conn()
        with conn:
            conn.execute("INSERT INTO storage_files (path, owner, size) VALUES (?, ?, ?) "
                         "ON CONFLICT(path) DO UPDATE SET owner = excluded.owner, "
                         "size = excluded.size", (self.key(disk), owner, size))
        with self._lock:
            if old is not None:
                self.used[old[0]] = self.used.get(old[0], 0) - old[1]
                self.files[old[0]] = self.files.get(old[0], 0) - 1
            self.used[owner] = self.used.get(owner, 0) + size
            self.files[owner] = self.files.get(owner, 0) + 1

    def forget(self, disk: Path) -> None:
        """``disk`` (a file or a whole folder) is gone: give its bytes back."""
        key = self.key(disk)
        conn = self.conn()
        rows = conn.execute("SELECT path, owner, size FROM storage_files WHERE path = ? OR "
                            "(path > ? AND path < ?)", (key, key + "/", key + "0")).fetchall()
        with conn:
            conn.executemany("DELETE FROM storage_files WHERE path = ?", [(r[0],) for r in rows])
        with self._lock:
            for _, owner, size in rows:
                self.used[owner] = self.used.get(owner, 0) - int(size)
                self.files[owner] = self.files.get(owner, 0) - 1

    def moved(self, src: Path, dest: Path) -> None:
        """``src`` (file or folder) is now at ``dest``: same owners, new paths."""
        old, new = self.key(src), self.key(dest)
        self.forget(dest)
        conn = self.conn()
        rows = conn.execute("SELECT path FROM storage_files WHERE path = ? OR "
                            "(path > ? AND path < ?)", (old, old + "/", old + "0")).fetchall()
        with conn:
            for (path,) in rows:
                conn.execute("UPDATE storage_files SET path = ? WHERE path = ?",
                             (new + path[len(old):], path))

    def reconcile(self, owner_for: Callable[[Path], str]) -> None:
        """At start: files on disk the table lacks are charged (``owner_for``), rows of files
        gone are dropped. The table, not the disk, is what quotas count."""
        known = {r[0]: r[1] for r in self.conn().execute("SELECT path, size FROM storage_files")}
        seen: set[str] = set()
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                disk = Path(folder) / name
                if disk.is_symlink() or not disk.is_file():
                    continue
                key = self.key(disk)
                seen.add(key)
                if key not in known:
                    self.settle(disk, owner_for(disk), disk.stat().st_size)
        for gone in set(known) - seen:
            self.forget(self.root / gone)


class QuotaWriter:
    """The file object WsgiDAV writes a PUT body into: bytes reserved as they come."""

    def __init__(self, ledger: Ledger, owner: str, out: BinaryIO, freed: int,
                 scan: Any = None) -> None:
        self.ledger, self.owner, self.out, self.freed = ledger, owner, out, freed
        self.written = 0
        self.scan = scan
        """An antivirus session (``feed(bytes)``, ``verdict() -> bool``), or None."""

    def write(self, data: bytes) -> int:
        self.ledger.reserve(self.owner, len(data), self.freed)
        self.written += len(data)
        if self.scan is not None:
            self.scan.feed(data)
        return self.out.write(data)

    def writelines(self, chunks: Iterable[bytes]) -> None:
        # WsgiDAV prefers writelines when the file has one: every chunk goes through write.
        for chunk in chunks:
            self.write(chunk)

    def close(self) -> None:
        self.out.close()

    def finish(self) -> bool:
        """Whether the upload may be stored (the antivirus found nothing, or is off)."""
        return True if self.scan is None else bool(self.scan.verdict())

