"""RADIUS accounting into the session store the portal and the filter share: Start opens a
session for the client's address (Framed-IP-Address, else its DHCP lease by MAC), or waits
until dnsmasq leases one (``bind_lease``, from its lease hook); Interim keeps it alive or opens
it once the lease exists, Stop closes it; each start and stop is journaled."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

from appliance.sessions import store
from appliance.sessions.store import Method, Session
from appliance.state import migrate
from network.mac import normalise_mac
from network.radius import directory
from network.radius.context import Context
from network.radius.request import Request, parse_class

# A client often authenticates before it has an address: its start waits here for a lease.
STEPS = ("""
    CREATE TABLE radius_pending (
        acct_session TEXT PRIMARY KEY,
        method TEXT NOT NULL,
        login TEXT NOT NULL,
        profile TEXT NOT NULL,
        mac TEXT,
        account_id INTEGER,
        device_id INTEGER,
        created_at REAL NOT NULL)
""",)


def lease_ip(leases: Path, mac: str | None) -> str | None:
    """The address dnsmasq leased to ``mac`` (its lease file: expiry mac ip name client-id)."""
    if mac is None:
        return None
    try:
        text = leases.read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1].lower() == mac:
            return parts[2]
    return None


class Accounting:
    def __init__(self, ctx: Context, clock: Callable[[], float] = time.time) -> None:
        self.ctx, self.clock = ctx, clock
        self._ready = False

    def _db(self) -> sqlite3.Connection:
        conn = self.ctx.db()
        if not self._ready:
            migrate(conn, "radius", STEPS)
            self._ready = True
        return conn

    def handle(self, req: Request) -> str:
        """Apply one Accounting-Request; a short word for the log."""
        status = req.get("Acct-Status-Type") or ""
        sid = req.get("Acct-Session-Id")
        if not sid:
            return "ignored: no Acct-Session-Id"
        key = f"{req.nas()}/{sid}"  # Acct-Session-Id is unique per access point only
        conn, now = self._db(), self.clock()
        session = store.by_accounting(conn, key)
        if status == "Stop":
            conn.execute("DELETE FROM radius_pending WHERE acct_session = ?", (key,))
            conn.commit()
            if session is None:
                return "stop: no open session"
            cause = req.get("Acct-Terminate-Cause") or "stop"
            ended = store.end(conn, session.id, "stop", now)
            if ended is not None:
                self._journal("stop", ended, cause)
            return "stop"
        if session is not None:
            store.seen(conn, session.id, now)
            return "seen"
        if status not in ("Start", "Interim-Update"):
            return f"ignored: {status}"
        who = self._who(req, key)
        if who is None:
            return "ignored: unknown user"
        method, login, profile, account_id, device_id = who
        mac = req.mac()
        ip = req.get("Framed-IP-Address") or lease_ip(Path(self.ctx.settings.leases), mac)
        if ip is None:
            conn.execute("INSERT OR REPLACE INTO radius_pending VALUES (?,?,?,?,?,?,?,?)",
                         (key, method.value, login, profile, mac, account_id, device_id, now))
            conn.commit()
            return "pending: no address yet"
        self._open(conn, key, who, mac, ip, now)
        return "start"

    def bind_lease(self, mac: str, ip: str) -> list[str]:
        """dnsmasq leased ``ip`` to ``mac``: open the 802.1X sessions that waited for it (an
        access point sends its Start before the client asks DHCP). Returns their logins."""
        normal = normalise_mac(mac)
        if normal is None:
            return []
        conn, now = self._db(), self.clock()
        rows = conn.execute("SELECT acct_session, method, login, profile, account_id, "
                            "device_id FROM radius_pending WHERE mac = ? ORDER BY created_at",
                            (normal,)).fetchall()
        opened = []
        for key, method, login, profile, account_id, device_id in rows:
            if store.by_accounting(conn, key) is None:
                self._open(conn, key, (Method(method), login, profile, account_id, device_id),
                           normal, ip, now)
                opened.append(login)
        return opened

    def _open(self, conn: sqlite3.Connection, key: str,
              who: tuple[Method, str, str, int | None, int | None], mac: str | None, ip: str,
              now: float) -> None:
        method, login, profile, account_id, device_id = who
        s = self.ctx.settings
        opened, replaced = store.start(
            conn, method=method, login=login, profile=profile, ip=ip, mac=mac,
            zone=self._zone(ip), now=now, idle_timeout=s.idle_seconds,
            lifetime=s.session_seconds, account_id=account_id, device_id=device_id,
            acct_session=key)
        conn.execute("DELETE FROM radius_pending WHERE acct_session = ?", (key,))
        conn.commit()
        if replaced is not None:
            self._journal("stop", replaced, "replaced")
        self._journal("start", opened, None)

    def _who(self, req: Request, key: str
             ) -> tuple[Method, str, str, int | None, int | None] | None:
        row = self._db().execute("SELECT method, login, profile, account_id, device_id FROM "
                                 "radius_pending WHERE acct_session = ?", (key,)).fetchone()
        if row is not None:
            return Method(row[0]), row[1], row[2], row[3], row[4]
        given = parse_class(req.get("Class"))
        if given is not None and given[0] == "d":
            dev = self._db().execute("SELECT id, name, profile FROM devices WHERE id = ?",
                                     (int(given[1]) if given[1].isdigit() else -1,)).fetchone()
            return (Method.DEVICE, dev[1], dev[2], None, dev[0]) if dev else None
        login = given[1] if given is not None else (req.get("User-Name") or "")
        sub = directory.subscriber(self._db(), login)
        if sub is None:
            return None
        return Method.DOT1X, sub.login, sub.profile, sub.id, None

    def _zone(self, ip: str) -> str | None:
        try:
            address = IPv4Address(ip)
        except ValueError:
            return None
        for name, subnet in self.ctx.settings.zones:
            if address in IPv4Network(subnet):
                return name
        return None

    def _journal(self, event: str, s: Session, reason: str | None) -> None:
        self.ctx.journal("session", {
            "event": event, "method": s.method.value, "login": s.login, "profile": s.profile,
            "ip": s.ip, "mac": s.mac, "zone": s.zone, "session": s.id,
            "acct_session": s.acct_session, "reason": reason})
