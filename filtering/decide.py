"""One filtering decision for one proxied request: who is asking, what the lists say about the
host, what the policy decides, and a record of refusals. The Squid helper is a loop around it."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from appliance.errors import CarineError
from appliance.state import connect, data_version
from filtering import store
from filtering.config import FilterConfig
from filtering.policy import Policy, Verdict

log = logging.getLogger("carine.filter")
RELOAD_EVERY = 1.0  # seconds between checks for a new index or new openings


class Lists(Protocol):
    """What the decision needs from the compiled lists (filtering.index.Index)."""

    def lookup(self, host: str, path: str | None = None) -> frozenset[str]: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Request:
    """The fields the Squid helper receives (already decoded)."""

    client: str
    user: str
    method: str
    host: str
    path: str
    sni: str


@dataclass(frozen=True)
class Answer:
    """OK or ERR, and the annotations Squid logs (%{category}note...) and passes to deny_info."""

    ok: bool
    notes: dict[str, str] = field(default_factory=dict)


def target_host(req: Request) -> str:
    """The name to judge: the TLS SNI when there is one, else the request's host, normalised."""
    host = (req.sni or req.host).strip().lower()
    if host.startswith("[") or host.count(":") > 1:  # IPv6 literal
        return host
    host = (host.rsplit(":", 1)[0] if ":" in host else host).rstrip(".")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


class Decider:
    """Decisions with their inputs kept fresh: the index file and the store are re-read when
    they change (checked at most once a second), without restarting anything."""

    def __init__(self, config: FilterConfig, open_lists: Callable[[Path], Lists],
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.config = config
        self.open_lists = open_lists
        self.clock = clock
        self.lists: Lists | None = None
        self.lists_stamp: tuple[int, int] | None = None
        self.conn: sqlite3.Connection | None = None
        self.store_version = -1
        self.policy = Policy(config.filtering)
        self.next_check = 0.0
        # Refusals wait here and reach the store in one transaction per second: a commit per
        # refusal would cost more than the decision itself.
        self.pending: dict[tuple[str, str], tuple[str, str, str, datetime]] = {}
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> None:
        now = self.clock().timestamp()
        if not force and now < self.next_check:
            return
        self.next_check = now + RELOAD_EVERY
        self.flush()
        self._refresh_lists()
        self._refresh_policy()

    def _refresh_lists(self) -> None:
        try:
            st = self.config.index.stat()
        except OSError:
            if self.lists is None:
                log.error("no filtering index at %s: filtered zones are refused (fail closed)",
                          self.config.index)
            return
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp == self.lists_stamp:
            return
        try:
            lists = self.open_lists(self.config.index)
        except CarineError as exc:
            log.error("cannot use the new index: %s; keeping the previous one", exc.message)
            self.lists_stamp = stamp
            return
        if self.lists is not None:
            self.lists.close()
        self.lists, self.lists_stamp = lists, stamp
        log.info("filtering index loaded from %s", self.config.index)

    def _refresh_policy(self) -> None:
        try:
            if self.conn is None:
                self.conn = connect(self.config.store)
                store.prepare(self.conn)
            version = data_version(self.conn)
            if version == self.store_version:
                return
            allow, block = store.exceptions(self.conn)
            self.policy = Policy(self.config.filtering, store.openings(self.conn, self.clock()),
                                 allow, block)
            self.store_version = version
        except (sqlite3.Error, CarineError) as exc:
            log.error("state store unavailable (%s): deciding without runtime exceptions", exc)
            self.conn = None

    def decide(self, req: Request) -> Answer:
        zone = self.config.zone_of(req.client)
        if zone is None:  # a zone that is not filtered (direct internet) using the proxy
            return Answer(True, {"decision": "allow", "reason": "unfiltered-zone"})
        if self.lists is None:
            return Answer(False, {"decision": "block", "reason": "filter-unavailable",
                                  "profile": zone.profile, "message": "filter-unavailable"})
        host = target_host(req)
        path = "" if req.method == "CONNECT" or req.sni else req.path
        categories = self.lists.lookup(host, path or None)
        now = self.clock()
        verdict = self.policy.decide(zone.profile, zone.name, host, categories, now)
        notes = {"decision": verdict.action, "reason": verdict.reason, "layer": verdict.layer,
                 "profile": zone.profile, "category": verdict.category or "-"}
        if not verdict.allowed:
            self._record(req.client, host, verdict, zone.profile, now)
            notes["message"] = f"{verdict.reason}/{verdict.category or '-'}/{zone.profile}"
        return Answer(verdict.allowed, notes)

    def _record(self, client: str, host: str, verdict: Verdict, profile: str,
                now: datetime) -> None:
        # The client is in a filtered zone (an IPv4 subnet): no need to parse it again.
        self.pending[(client, host)] = (verdict.category, verdict.reason, profile, now)

    def flush(self) -> None:
        """Write the refusals seen since the last flush (the "recently blocked" page)."""
        if not self.pending or self.conn is None:
            return
        rows = [(client, host, *rest) for (client, host), rest in self.pending.items()]
        self.pending = {}
        try:
            store.record_blocks(self.conn, rows)
        except sqlite3.Error as exc:  # never let the journal stop a decision
            log.error("cannot record %d refusals: %s", len(rows), exc)
