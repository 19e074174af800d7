"""Opening and closing access: a session in the store, the client's address in the firewall
gate, and a journal record, together. The portal, its loop and the commands all come here."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from ipaddress import IPv4Address
from pathlib import Path

from appliance.directory import schema as directory_schema
from appliance.errors import CarineError
from appliance.journal import Journal
from appliance.sessions import store as sessions
from appliance.sessions.store import Method, Session
from appliance.state import connect
from network.portal.config import PortalConfig
from network.portal.counters import LoginCounters, result_of
from network.portal.nftset import Grant, NftSets

log = logging.getLogger("carine.portal")
Fields = Mapping[str, str | int | float | None]


class Events:
    """The journal as the portal writes it: one lock (cheroot's threads share it), and never a
    failure that takes a login down with it: the error is logged loudly instead."""

    def __init__(self, root: Path | None, logins: LoginCounters | None = None) -> None:
        self.lock = threading.Lock()
        self.logins = logins or LoginCounters(None)
        self.journal: Journal | None = None
        if root is not None:
            try:
                self.journal = Journal.open(root)
            except CarineError as exc:
                log.error("journal unavailable (%s): sessions are kept in the store only",
                          exc.message)

    def write(self, kind: str, fields: Fields) -> None:
        if self.journal is None:
            return
        try:
            with self.lock:
                self.journal.append(kind, fields)
        except (CarineError, sqlite3.Error) as exc:
            log.error("cannot journal a %s record: %s", kind, exc)

    def session(self, event: str, s: Session, reason: str | None = None) -> None:
        self.write("session", {"event": event, "method": s.method.value, "login": s.login,
                               "profile": s.profile, "ip": s.ip, "mac": s.mac, "zone": s.zone,
                               "session": s.id, "reason": reason})

    def auth(self, outcome: str, method: str, login: str | None, ip: str,
             reason: str | None = None) -> None:
        result = result_of(outcome, method, reason)
        if result is not None:
            self.logins.count(result)
        self.write("auth", {"outcome": outcome, "method": method, "login": login, "ip": ip,
                            "reason": reason})

    def admin(self, actor: str, action: str, **fields: str | int | None) -> None:
        self.write("admin", {"actor": actor, "action": action, **fields})


class Access:
    """Sessions of the portal's methods (portal, voucher, device) and their gate elements."""

    OWN = (Method.PORTAL, Method.VOUCHER, Method.DEVICE)

    def __init__(self, config: PortalConfig, sets: NftSets, events: Events,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.sets = sets
        self.events = events
        self.clock = clock
        self.local = threading.local()

    def conn(self) -> sqlite3.Connection:
        """This thread's connection to the store (SQLite connections are not shared)."""
        conn: sqlite3.Connection | None = getattr(self.local, "conn", None)
        if conn is None:
            conn = connect(self.config.store)
            directory_schema.prepare(conn)
            sessions.prepare(conn)
            self.local.conn = conn
        return conn

    def current(self, ip: str) -> Session | None:
        """The live session of ``ip`` (None if none, or if it is past its absolute end)."""
        found = sessions.by_ip(self.conn(), ip)
        if found is None or self.clock() >= found.expires_at:
            return None
        return found

    def open(self, *, method: Method, login: str, profile: str, ip: str, mac: str | None,
             zone: str | None, idle: int | None = None, lifetime: int | None = None,
             account_id: int | None = None, device_id: int | None = None,
             voucher_id: int | None = None) -> Session:
        """Open a session for ``ip`` and let it through the gate."""
        address = IPv4Address(ip)  # refuse anything else before it reaches the store or nft
        default_idle, default_life = self.config.limits_of(profile)
        lifetime = lifetime or default_life
        idle = min(idle or default_idle, lifetime)
        session, replaced = sessions.start(
            self.conn(), method=method, login=login, profile=profile, ip=str(address), mac=mac,
            zone=zone, now=self.clock(), idle_timeout=idle, lifetime=lifetime,
            account_id=account_id, device_id=device_id, voucher_id=voucher_id)
        if replaced is not None:
            self.events.session("end", replaced, "replaced")
        try:
            self.sets.apply([self.grant(session)])
        except CarineError:
            sessions.end(self.conn(), session.id, "firewall-error", self.clock())
            raise
        self.events.session("start", session)
        return session

    def grant(self, session: Session) -> Grant:
        """The gate element of ``session``: idle-refreshed for logins, fixed for devices."""
        left = max(1, int(session.expires_at - self.clock()))
        if session.method is Method.DEVICE:
            return Grant(IPv4Address(session.ip), left)
        idle_set = self.config.idle_set_of(session.profile)
        if idle_set is None or session.idle_timeout >= left:
            return Grant(IPv4Address(session.ip), min(int(session.idle_timeout), left))
        return Grant(IPv4Address(session.ip), int(session.idle_timeout), idle_set, left)

    def close(self, session: Session, reason: str) -> Session | None:
        """End ``session`` and take its address out of the gate."""
        ended = sessions.end(self.conn(), session.id, reason, self.clock())
        try:
            self.sets.apply(revokes=[session.ip])
        except CarineError as exc:
            log.error("session %d ended but its address stays in the gate: %s", session.id,
                      exc.message)
        if ended is not None:
            self.events.session("end", ended, reason)
        return ended

    def own_sessions(self) -> list[Session]:
        return [s for s in sessions.open_sessions(self.conn()) if s.method in self.OWN]
