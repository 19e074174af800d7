"""Basic authentication against the directory, as the portal and RADIUS do it: argon2id hashes,
the same lockout counters, locked and deactivated accounts refused; never a second user list.

WebDAV clients send the password with every request and argon2id costs tens of milliseconds:
a good password is remembered (keyed HMAC, a few minutes, in memory only) against the stored
hash, while the account's state is read from the store at every request."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from wsgidav.dc.base_dc import BaseDomainController

from appliance.directory import accounts
from storage.users import Directory

log = logging.getLogger("carine.storage")
REMEMBER_SECONDS = 300
# argon2id takes 19 MiB and a core for each check: a class connecting at once would otherwise
# run 24 at a time (one per server thread), thrash two cores and leave glibc holding hundreds
# of megabytes in per-thread arenas. Two at a time is as fast on the appliance's cores.
CONCURRENT_CHECKS = 2


class Verifier:
    """Checks a login and password; ``now`` is injected (tests never read the wall clock)."""

    def __init__(self, directory: Directory, lockout: accounts.Lockout,
                 now: Callable[[], float] = time.time) -> None:
        self.directory = directory
        self.lockout = lockout
        self.now = now
        self._key = secrets.token_bytes(32)
        self._good: dict[str, tuple[bytes, str, float]] = {}
        self._lock = threading.Lock()
        self._checks = threading.BoundedSemaphore(CONCURRENT_CHECKS)
        self.refusals: dict[str, int] = {}

    def _mac(self, login: str, password: str) -> bytes:
        return hmac.new(self._key, f"{login}\0{password}".encode(), hashlib.sha256).digest()

    def check(self, login: str, password: str) -> accounts.Outcome:
        login = login.strip().lower()
        now = self.now()
        conn = self.directory.conn()
        row = conn.execute(
            "SELECT a.password_hash, a.state, a.locked_until, COALESCE(p.state, 'active') "
            "FROM accounts a LEFT JOIN people p ON p.id = a.person_id WHERE a.login = ?",
            (login,)).fetchone()
        if row is not None and row[1] == "active" and row[3] == "active" and not (
                row[2] is not None and row[2] > now):
            with self._lock:
                known = self._good.get(login)
            if known is not None and known[1] == row[0] and known[2] > now and \
                    hmac.compare_digest(known[0], self._mac(login, password)):
                return accounts.Outcome.OK
        with self._checks:
            result = accounts.authenticate(conn, login, password, now, self.lockout)
        if result.ok:
            stored = conn.execute("SELECT password_hash FROM accounts WHERE login = ?",
                                  (login,)).fetchone()[0]
            with self._lock:
                self._good[login] = (self._mac(login, password), stored,
                                     now + REMEMBER_SECONDS)
        else:
            with self._lock:
                self._good.pop(login, None)
                self.refusals[result.outcome.value] = \
                    self.refusals.get(result.outcome.value, 0) + 1
        return result.outcome


class DirectoryController(BaseDomainController):  # type: ignore[misc]
    """WsgiDAV's domain controller: every path needs a directory account."""

    def __init__(self, wsgidav_app: Any, config: dict[str, Any]) -> None:
        super().__init__(wsgidav_app, config)
        self.verifier: Verifier = config["carine"]["verifier"]
        self.realm: str = config["carine"]["realm"]

    def get_domain_realm(self, path_info: str, environ: dict[str, Any]) -> str:
        return self.realm

    def require_authentication(self, realm: str, environ: dict[str, Any]) -> bool:
        return True

    def basic_auth_user(self, realm: str, user_name: str, password: str,
                        environ: dict[str, Any]) -> bool:
        outcome = self.verifier.check(user_name, password)
        if outcome is not accounts.Outcome.OK:
            # The login only if it exists; never the password.
            log.info("refused %s from %s: %s", user_name if outcome.value != "unknown-login"
                     else "?", environ.get("REMOTE_ADDR"), outcome.value)
            return False
        environ["wsgidav.auth.user_name"] = user_name.strip().lower()
        return True

    def supports_http_digest_auth(self) -> bool:
        return False  # digest needs the clear or an MD5 of the password: never stored
