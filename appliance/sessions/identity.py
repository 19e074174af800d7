"""Client address -> who and which profile, for the filter helper: a dictionary of the open
sessions, reloaded when the store changes, so a decision costs one dictionary lookup."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from appliance.state import connect, data_version

log = logging.getLogger("carine.identity")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is behind a client address: the login (or device name), the profile, the method."""

    login: str
    profile: str
    method: str
    expires_at: float


class IdentityLookup:
    """Open sessions by IP, read from the state store at ``path``.

    ``refresh`` is cheap (one PRAGMA) and is called by the caller at most once a second; a
    session past its absolute end is ignored at lookup time even before it is closed.
    ``version`` changes only when the sessions do: the store also changes for other reasons
    (refusals recorded by the filter helpers, accounting), which must not empty their caches."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None
        self.version = 0
        self._store_version = -1
        self.by_ip: dict[str, Identity] = {}

    def refresh(self) -> None:
        try:
            if self.conn is None:
                if not self.path.exists():
                    return
                self.conn = connect(self.path, readonly=True)
            version = data_version(self.conn)
            if version == self._store_version:
                return
            rows = self.conn.execute(
                "SELECT ip, login, profile, method, expires_at "
                "FROM sessions WHERE ended_at IS NULL").fetchall()
        except sqlite3.Error as exc:
            # No sessions table yet (no portal, no RADIUS): every client keeps its zone profile.
            if "no such table" not in str(exc):
                log.error("cannot read the sessions (%s): zone profiles apply", exc)
            self._set({})
            return
        self._set({r[0]: Identity(*r[1:]) for r in rows})
        self._store_version = version

    def _set(self, by_ip: dict[str, Identity]) -> None:
        if by_ip != self.by_ip:
            self.by_ip = by_ip
            self.version += 1

    def lookup(self, ip: str, now: float) -> Identity | None:
        """The live identity behind ``ip`` at ``now``, or None (then the zone's profile applies)."""
        found = self.by_ip.get(ip)
        # Idleness is the owner's to judge (the portal reads it from the firewall's set
        # timeouts and closes the session); the absolute end is checked here.
        if found is None or now >= found.expires_at:
            return None
        return found

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
