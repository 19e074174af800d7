"""borgbackup round trip: init (encrypted, passphrase and key 0600), a daily and a monthly
full archive of the storage, configuration, state and logs; a deleted home and the state store
restored under a new root, compared byte for byte; borg check passes."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.backup import Backup
from tests.conftest import require_tool

pytestmark = pytest.mark.contract


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_backup_round_trip(tmp_path: Path) -> None:
    require_tool("borg")
    box = tmp_path / "box"
    state, config, log = box / "var/lib/carine", box / "etc/carine", box / "var/log/carine"
    home = state / "storage/tree/homes/eleve.un"
    (home / "maths").mkdir(parents=True)
    (home / "maths/devoir.odt").write_bytes(bytes(range(256)) * 1000)
    (home / "été.txt").write_text("vacances", encoding="utf-8")
    config.mkdir(parents=True)
    (config / "site.yaml").write_text("school: {}\n")
    log.mkdir(parents=True)
    (state / "journal").mkdir()
    (state / "journal/segment-1").write_bytes(b"journal")
    store = sqlite3.connect(state / "state.sqlite")
    store.execute("PRAGMA journal_mode=WAL")
    store.execute("CREATE TABLE t (x TEXT)")
    store.executemany("INSERT INTO t VALUES (?)", [(f"ligne {i}",) for i in range(1000)])
    store.commit()   # left open: the WAL holds it, the snapshot must still see it
    backup = Backup(str(tmp_path / "repo"), state, config, log)
    backup.init()
    assert backup.passphrase_file.stat().st_mode & 0o777 == 0o600
    assert (backup.home / "repository.key").stat().st_mode & 0o777 == 0o600
    daily = backup.create(datetime(2026, 12, 7, 1, 30, tzinfo=UTC))
    # What the daily archive holds of the live store: its consistent snapshot, byte for byte.
    snapshot = (backup.home / "snapshot" / "state.sqlite").read_bytes()
    full = backup.create(datetime(2026, 12, 1, 3, 0, tzinfo=UTC), full=True)
    assert backup.archives() == [daily, full] == ["daily-2026-12-07T01-30-00",
                                                  "monthly-2026-12-01T03-00-00"]
    before = digests(home)
    rows = store.execute("SELECT x FROM t ORDER BY rowid").fetchall()
    # A home deleted by mistake, then restored with the state store under a new root.
    shutil.rmtree(home)
    new = tmp_path / "new-root"
    backup.restore(daily, new, [home, state / "state.sqlite"])
    assert digests(new / str(home).lstrip("/")) == before
    restored_file = new / str(state / "state.sqlite").lstrip("/")
    assert restored_file.read_bytes() == snapshot
    restored = sqlite3.connect(restored_file)
    assert list(restored.iterdump()) == list(store.iterdump())
    assert restored.execute("SELECT x FROM t ORDER BY rowid").fetchall() == rows
    assert restored.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The whole monthly archive: every byte of everything (the home put back first).
    everything = tmp_path / "full"
    backup.restore(full, everything)
    got = digests(everything / str(box).lstrip("/"))
    assert {k: v for k, v in got.items() if k.startswith("var/lib/carine/storage/")} == {
        f"var/lib/carine/storage/tree/homes/eleve.un/{k}": v for k, v in before.items()}
    assert got["etc/carine/site.yaml"] == hashlib.sha256(b"school: {}\n").hexdigest()
    assert got["var/lib/carine/journal/segment-1"] == hashlib.sha256(b"journal").hexdigest()
    assert "var/lib/carine/backup/borg" not in " ".join(got)
    backup.prune(1, 1)
    assert "ok" in backup.verify() or backup.verify() == "ok"
