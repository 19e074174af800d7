"""Backups with borgbackup (D-STO-3): the storage, the configuration (site file and rendered
etc/carine), the state folder (secrets, the journal, a consistent copy of the state store) and
the logs, to the repository the site names (a local disk or ssh://), encrypted (repokey,
BLAKE2b) with a passphrase kept 0600 and the key exported 0600 beside it.

Daily archives reuse borg's files cache (incremental: only changed files are read); the
monthly archive is made without it (every byte read again: a full backup). Archives are
named from the injected clock, never from borg's."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from appliance.errors import CarineError
from appliance.files import write_atomic
from appliance.run import Result, run
from appliance.state import STATE_FILE

TIMEOUT = 6 * 3600.0


@dataclass(frozen=True)
class Backup:
    repository: str
    state: Path
    """The state folder (/var/lib/carine): storage tree, secrets, journal, state store."""
    config: Path
    """The configuration folder (/etc/carine)."""
    log: Path

    @property
    def home(self) -> Path:
        return self.state / "backup"

    @property
    def passphrase_file(self) -> Path:
        return self.home / "passphrase"

    def _env(self) -> dict[str, str]:
        try:
            phrase = self.passphrase_file.read_text(encoding="ascii").strip()
        except OSError as exc:
            raise CarineError(f"no backup passphrase at {self.passphrase_file}: {exc}",
                              "carine backup init makes the repository and its key") from exc
        if self.passphrase_file.stat().st_mode & 0o077:
            raise CarineError(f"{self.passphrase_file} is readable by others",
                              f"chmod 600 {self.passphrase_file}")
        return {"BORG_PASSPHRASE": phrase, "BORG_BASE_DIR": str(self.home / "borg"),
                "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes", "BORG_DELETE_I_KNOW_WHAT_I_AM_DOING":
                "NO", "BORG_CHECK_I_KNOW_WHAT_I_AM_DOING": "NO"}

    def _borg(self, *argv: str, cwd: Path | None = None, check: bool = True) -> Result:
        env = self._env()
        return run(["borg", *argv], timeout=TIMEOUT, env=env, cwd=cwd, check=check,
                   secrets=[env["BORG_PASSPHRASE"]])

    def init(self) -> None:
        """Create the repository, encrypted; passphrase and exported key 0600."""
        self.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not self.passphrase_file.exists():
            write_atomic(self.passphrase_file, secrets.token_urlsafe(32) + "\n", mode=0o600)
        if self.repository.startswith("/"):
            Path(self.repository).parent.mkdir(parents=True, exist_ok=True)
        self._borg("init", "--encryption=repokey-blake2", self.repository)
        key = self.home / "repository.key"
        self._borg("key", "export", self.repository, str(key))
        key.chmod(0o600)

    def _snapshot(self) -> Path:
        """A consistent copy of the state store (SQLite's online backup: WAL included)."""
        folder = self.home / "snapshot"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        target = folder / STATE_FILE
        target.unlink(missing_ok=True)
        source = sqlite3.connect(f"file:{self.state / STATE_FILE}?mode=ro", uri=True)
        try:
            dest = sqlite3.connect(target)
            with dest:
                source.backup(dest)
            dest.close()
        finally:
            source.close()
        target.chmod(0o600)
        return target

    def create(self, now: datetime, *, full: bool = False) -> str:
        """One archive (``monthly-…`` when ``full``); its name."""
        name = f"{'monthly' if full else 'daily'}-{now.strftime('%Y-%m-%dT%H-%M-%S')}"
        if (self.state / STATE_FILE).exists():
            self._snapshot()
        sources = [str(p) for p in (self.state, self.config, self.log) if p.exists()]
        # The live store is taken from the snapshot; borg's own files are not backed up.
        excludes = [f"{self.state / STATE_FILE}*", str(self.home / "borg")]
        argv = ["create", "--compression=zstd,3", "--one-file-system",
                *(f"--exclude={e}" for e in excludes)]
        if full:
            argv.append("--files-cache=disabled")
        self._borg(*argv, f"{self.repository}::{name}", *sources)
        return name

    def prune(self, keep_daily: int, keep_monthly: int) -> None:
        self._borg("prune", "--glob-archives=daily-*", f"--keep-last={keep_daily}",
                   self.repository)
        self._borg("prune", "--glob-archives=monthly-*", f"--keep-last={keep_monthly}",
                   self.repository)

    def archives(self) -> list[str]:
        out = self._borg("list", "--short", self.repository).stdout
        return [line.strip() for line in out.splitlines() if line.strip()]

    def verify(self, *, data: bool = False) -> str:
        """borg check of the repository and archives (``data``: every chunk's MAC too)."""
        done = self._borg("check", *(["--verify-data"] if data else []), self.repository)
        return done.output() or "ok"

    def restore(self, archive: str, target: Path, paths: list[Path] | None = None) -> None:
        """Extract ``archive`` (or only ``paths``, absolute as on the box) under ``target``:
        ``/var/lib/carine/x`` comes back as ``target/var/lib/carine/x``."""
        target.mkdir(parents=True, exist_ok=True)
        wanted = [str(p).lstrip("/") for p in paths or []]
        snap = (self.home / "snapshot" / STATE_FILE)
        if wanted and str(self.state / STATE_FILE).lstrip("/") in wanted:
            wanted = [w for w in wanted if w != str(self.state / STATE_FILE).lstrip("/")]
            wanted.append(str(snap).lstrip("/"))
        self._borg("extract", f"{self.repository}::{archive}", *wanted, cwd=target)
        # The state store was backed up as its snapshot: it comes back where it lives.
        got = target / str(snap).lstrip("/")
        if got.exists():
            got.replace(target / str(self.state / STATE_FILE).lstrip("/"))
