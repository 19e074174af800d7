"""Who was behind a client address at a given time, from the state store's sessions: the login
of navigation lines Squid logs without one (spliced and refused HTTPS, issue 12 point 4).

The filter names the session's user to Squid (``user=``), but Squid logs a spliced tunnel or a
refused TLS connection as its own transaction, without the helper's answer: the journal then
looks the address up as the filter does (the session store by client IP), at the line's time."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from appliance.state import connect, data_version

log = logging.getLogger("carine.journal")

# A session that ended at or after the line's time and started at or before it held the
# address then; sessions_ended keeps this a short range scan (lines are seconds old).
_ENDED = ("SELECT login FROM sessions WHERE ended_at >= ? AND ip = ? AND started_at <= ? "
          "ORDER BY started_at DESC LIMIT 1")


class Attribution:
    """``login_at(ip, at_us)``: the login of the session holding ``ip`` at ``at_us`` (µs since
    the epoch, UTC), or None. Open sessions are kept in memory, reloaded when the store's
    sessions change (``refresh``, once per batch of lines); ended ones are asked for."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.conn: sqlite3.Connection | None = None
        self._version = -1
        self.open: dict[str, tuple[str, float, float]] = {}  # ip -> (login, start, end)
        self._memo: dict[tuple[str, int], str | None] = {}

    def refresh(self) -> None:
        self._memo.clear()
        try:
            if self.conn is None:
                if not self.store.exists():
                    return
                self.conn = connect(self.store, readonly=True)
            version = data_version(self.conn)
            if version == self._version:
                return
            rows = self.conn.execute("SELECT ip, login, started_at, expires_at FROM sessions "
                                     "WHERE ended_at IS NULL").fetchall()
        except sqlite3.Error as exc:
            self._unavailable(exc)
            return
        self.open = {ip: (login, start, end) for ip, login, start, end in rows}
        self._version = version

    def _unavailable(self, exc: sqlite3.Error) -> None:
        # No sessions table (no portal, no RADIUS): nobody to name, the line keeps "-".
        if "no such table" not in str(exc):
            log.error("cannot read the sessions (%s): navigation lines keep Squid's user", exc)
        self.open = {}

    def login_at(self, ip: str, at_us: int) -> str | None:
        at = at_us / 1e6
        held = self.open.get(ip)
        if held is not None and held[1] <= at:
            # Past its absolute end the filter no longer names it either (identity.py).
            return held[0] if at < held[2] else None
        if self.conn is None:
            return None
        key = (ip, at_us // 1_000_000)  # a batch repeats the same client in the same second
        if key in self._memo:
            return self._memo[key]
        try:
            found = self.conn.execute(_ENDED, (at, ip, at)).fetchone()
        except sqlite3.Error as exc:
            self._unavailable(exc)
            found = None
        login = None if found is None else str(found[0])
        self._memo[key] = login
        return login

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
