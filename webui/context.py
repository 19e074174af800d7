"""What the console works on: the site, the state store (directory, filtering, console tables),
the journal, the clock. One ``Console`` per process; a store connection per request."""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import g

from appliance.clock import CallClock
from appliance.directory import schema
from appliance.directory.accounts import Lockout
from appliance.errors import CarineError
from appliance.journal.store import Journal
from appliance.site import Internet, Site
from appliance.state import connect
from filtering import store as filter_store
from filtering.config import FilterConfig
from filtering.config import ZoneInfo as FilterZone
from webui import roles
from webui.jobs import Jobs

log = logging.getLogger("carine.console")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Console:
    """The console's world. ``now`` gives aware UTC times (tests inject a fixed clock)."""

    site: Site
    store: Path
    journal_root: Path
    site_file: Path | None = None
    voucher_key: bytes = b""
    logo: Path | None = None
    run: Path | None = None
    carine: tuple[str, ...] = (sys.executable, "-m", "appliance.cli")
    """How the console calls the CLI for its long runs (apply, list update, import)."""
    detach: bool = False
    """Run them in transient systemd units (the daemon under systemd): they outlive a restart."""
    now: Callable[[], datetime] = utc_now
    lock: threading.Lock = field(default_factory=threading.Lock)
    _journal: Journal | None = None
    _jobs: Jobs | None = None
    _filter: FilterConfig | None = None

    def __post_init__(self) -> None:
        conn = connect(self.store)
        try:
            schema.prepare(conn)
            filter_store.prepare(conn)
            roles.prepare(conn)
        finally:
            conn.close()

    @property
    def filter_config(self) -> FilterConfig:
        """The filter's view of the site, as filtering.json gives it to the CLI (operations)."""
        if self._filter is None:
            zones = tuple(FilterZone(z.name, z.subnet, z.profiles[0], z.gateway())
                          for z in self.site.zones
                          if z.internet is Internet.FILTERED and z.profiles)
            self._filter = FilterConfig(self.site.school.uai, self.site.lan.domain, zones,
                                        self.store.parent / "filtering" / "index.cidx",
                                        self.store, self.store.parent, self.site.filtering)
        return self._filter

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            self._jobs = Jobs(self.store.parent / "console" / "jobs", self.carine,
                              detach=self.detach)
        return self._jobs

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.site.school.timezone)

    @property
    def lockout(self) -> Lockout:
        lock = self.site.portal.lockout
        return Lockout(lock.attempts, lock.minutes)

    @property
    def teacher_profile(self) -> str:
        return self.site.directory.profiles.teacher

    def local(self, when: datetime) -> str:
        """A time as a person reads it: in the site's zone."""
        return when.astimezone(self.zone).strftime("%d/%m/%Y %H:%M")

    def conn(self) -> sqlite3.Connection:
        """This request's connection to the state store."""
        if "carine_conn" not in g:
            g.carine_conn = connect(self.store)
        conn: sqlite3.Connection = g.carine_conn
        return conn

    def conn_for_tests(self) -> sqlite3.Connection:
        """A connection of its own, outside any request."""
        return connect(self.store)

    def journal(self) -> Journal:
        with self.lock:
            if self._journal is None:
                # Its records are stamped by the console's clock (tests inject one).
                self._journal = Journal.open(self.journal_root, clock=CallClock(self.now))
            return self._journal

    def audit(self, actor: str, action: str, **details: Any) -> None:
        """Record an administrative action in the journal (D-LOG-3); never the secrets."""
        try:
            journal = self.journal()
            with self.lock:
                journal.append("admin", {"actor": actor, "action": action, **details},
                               at=self.now())
        except (CarineError, sqlite3.Error) as exc:
            log.error("cannot journal the admin action %s: %s", action, exc)

    def auth(self, outcome: str, login: str | None, ip: str, reason: str | None = None) -> None:
        try:
            journal = self.journal()
            with self.lock:
                journal.append("auth", {"outcome": outcome, "method": "console",
                                        "login": login, "ip": ip, "reason": reason},
                               at=self.now())
        except (CarineError, sqlite3.Error) as exc:
            log.error("cannot journal a console login: %s", exc)


def close_conn(_exc: BaseException | None = None) -> None:
    conn = g.pop("carine_conn", None)
    if conn is not None:
        conn.close()
