"""The storage WSGI application: WsgiDAV with our directory authentication, our gate, our
provider, quota ledger and antivirus; dead properties and locks kept beside the tree."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from wsgidav.error_printer import ErrorPrinter
from wsgidav.http_authenticator import HTTPAuthenticator
from wsgidav.lock_man.lock_storage import LockStorageShelve
from wsgidav.prop_man.property_manager import ShelvePropertyManager
from wsgidav.request_resolver import RequestResolver
from wsgidav.wsgidav_app import WsgiDAVApp

from appliance.directory.accounts import Lockout
from appliance.state import migrate
from storage import drops, quota, rights
from storage.auth import DirectoryController, Verifier
from storage.config import StorageConfig
from storage.gate import Counters, Gate
from storage.provider import Provider
from storage.users import Directory

log = logging.getLogger("carine.storage")
EVENTS = ("""
    CREATE TABLE storage_events (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        login TEXT NOT NULL,
        path TEXT NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '')
""",)


class Storage:
    """Everything one storage server holds: the directory, the ledger, the counters."""

    def __init__(self, cfg: StorageConfig, now: Callable[[], float] | None = None) -> None:
        self.cfg = cfg
        cfg.root.mkdir(parents=True, exist_ok=True, mode=0o750)
        self.meta = cfg.root.parent / (cfg.root.name + ".meta")
        self.meta.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.directory = Directory(cfg.store, cfg.profiles)
        conn = self.directory.conn()
        rights.prepare(conn)
        drops.prepare(conn)
        quota.prepare(conn)
        migrate(conn, "storage_events", EVENTS)
        self.now: Callable[[], float] = now or time.time
        self.verifier = Verifier(self.directory, Lockout(cfg.lockout_attempts,
                                                         cfg.lockout_minutes), self.now)
        self.counters = Counters()
        self.ledger = quota.Ledger(cfg.root, self.directory.conn, self._quota_of)
        self.ledger.reconcile(self._owner_for)
        self.provider = Provider(cfg.root)
        self.scanner: Any = None  # storage.antivirus.Scanner once enabled

    def purge_homes(self) -> list[str]:
        """Delete the homes of accounts the directory purged (D-DIR-3): a deactivated
        account's home stays until then. Returns the logins whose home went."""
        homes = self.cfg.root / "homes"
        if not homes.is_dir():
            return []
        known = set(self.directory.logins())
        gone = []
        for folder in sorted(homes.iterdir()):
            if folder.is_dir() and not folder.is_symlink() and folder.name not in known:
                shutil.rmtree(folder)
                self.ledger.forget(folder)
                gone.append(folder.name)
                log.info("home of purged account %s deleted", folder.name)
        return gone

    def boxes(self, class_code: str) -> dict[str, drops.Box]:
        return drops.boxes(self.directory.conn(), class_code)

    def _quota_of(self, login: str) -> int:
        user = self.directory.user(login)
        return self.cfg.quotas.of(login, user.category if user else "pupil")

    def _owner_for(self, disk: Path) -> str:
        parts = disk.relative_to(self.cfg.root).parts
        return parts[1] if len(parts) > 2 and parts[0] == "homes" else ""

    def writer_for(self, environ: dict[str, Any]) -> Any:
        def make(res: Any, out: BinaryIO) -> quota.QuotaWriter:
            login = environ["carine.user"].login
            target = Path(res._file_path)
            old = self.ledger.owner_of(target) if target.exists() else None
            freed = old[1] if old is not None and old[0] == login else 0
            return quota.QuotaWriter(self.ledger, login, out, freed,
                                     self.scanner.session() if self.scanner else None)
        environ["carine.ledger"] = self.ledger
        environ["carine.refused"] = lambda res, exc: self.refused(environ, res, exc)
        return make

    def refused(self, environ: dict[str, Any], res: Any, exc: BaseException | None) -> None:
        """An upload stopped at its end (virus, antivirus down): recorded, never stored."""
        signature = getattr(exc, "signature", None)
        login = environ["carine.user"].login
        reason = "virus" if signature else "antivirus-unavailable"
        log.warning("upload refused: %s by %s to %s%s", reason, login, res.path,
                    f" ({signature})" if signature else "")
        conn = self.directory.conn()
        with conn:
            conn.execute("INSERT INTO storage_events (at, login, path, reason, detail) "
                         "VALUES (?, ?, ?, ?, ?)", (self.now(), login, res.path, reason,
                                                    signature or str(exc)))

    def wsgi(self) -> WsgiDAVApp:
        config = {
            "provider_mapping": {"/": self.provider},
            "http_authenticator": {"domain_controller": DirectoryController,
                                   "accept_basic": True, "accept_digest": False,
                                   "default_to_digest": False},
            "middleware_stack": [ErrorPrinter, HTTPAuthenticator, Gate, RequestResolver],
            "lock_storage": LockStorageShelve(str(self.meta / "locks")),
            "property_manager": ShelvePropertyManager(str(self.meta / "props")),
            # Bodies move in 64 KiB blocks (WsgiDAV's default 8 KiB costs a Python round through
            # the quota writer and the antivirus per 8 KiB of a 5 MB homework).
            "block_size": 64 * 1024,
            "verbose": 1,
            "logging": {"enable": False},
            "suppress_version_info": True,
            "add_header_MS_Author_Via": True,
            "hotfixes": {"re_encode_path_info": True, "unquote_path_info": False},
            "carine": {"verifier": self.verifier, "realm": self.cfg.realm,
                       "directory": self.directory, "counters": self.counters,
                       "root": self.cfg.root, "pupils_write": self.cfg.pupils_write,
                       "writer": self.writer_for, "provider": self.provider,
                       "boxes": self.boxes, "now": self.now},
        }
        logging.getLogger("wsgidav").setLevel(logging.WARNING)
        return WsgiDAVApp(config)
