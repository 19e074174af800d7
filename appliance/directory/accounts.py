"""Accounts: create, authenticate with lockout against guessing, change passwords, record the
charter acknowledgement (D-AUT-4, D-AUT-5). The portal and FreeRADIUS both come through here."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from appliance.directory import logins, passwords
from appliance.errors import CarineError


class Outcome(StrEnum):
    """How a login attempt ended; the value is what the journal records as the reason."""

    OK = "ok"
    UNKNOWN = "unknown-login"
    BAD_PASSWORD = "bad-password"  # noqa: S105 - an outcome name, not a password
    LOCKED = "locked"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class Lockout:
    """After ``attempts`` failures in a row, the account refuses every password for ``minutes``."""

    attempts: int = 5
    minutes: int = 15


@dataclass(frozen=True)
class Account:
    """An account as its users see it (no hashes)."""

    id: int
    login: str
    profile: str
    display_name: str
    active: bool
    must_change: bool
    charter_version: str | None
    person_id: int | None

    def charter_needed(self, version: str) -> bool:
        """Whether the charter ``version`` is still to be acknowledged (D-AUT-5)."""
        return self.charter_version != version


@dataclass(frozen=True)
class AuthResult:
    outcome: Outcome
    account: Account | None = None
    locked_until: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


_SELECT = """SELECT a.id, a.login, a.password_hash, a.nt_hash, a.must_change, a.state,
    a.failures, a.locked_until, a.charter_version, a.person_id,
    COALESCE(p.profile, '') AS profile,
    COALESCE(p.first_name || ' ' || p.last_name, a.login) AS display_name,
    COALESCE(p.state, 'active') AS person_state
    FROM accounts a LEFT JOIN people p ON p.id = a.person_id"""


def _account(row: sqlite3.Row) -> Account:
    return Account(row["id"], row["login"], row["profile"], row["display_name"],
                   row["state"] == "active" and row["person_state"] == "active",
                   bool(row["must_change"]), row["charter_version"], row["person_id"])


def find(conn: sqlite3.Connection, login: str) -> Account | None:
    """The account named ``login`` (case-insensitive), or None."""
    row = conn.execute(_SELECT + " WHERE a.login = ?", (login.strip().lower(),)).fetchone()
    return _account(row) if row else None


def keeps_nt_hashes(conn: sqlite3.Connection) -> bool:
    """Whether the directory keeps an NT hash beside each password (PEAP-MSCHAPv2 is on).

    A property of the store, set when the RADIUS configuration is prepared, so that every
    writer of passwords (imports, the portal, the referent's commands) follows the site."""
    try:
        row = conn.execute("SELECT value FROM directory_settings WHERE key = 'nt_hash'").fetchone()
    except sqlite3.OperationalError:  # a store older than the setting
        return False
    return row is not None and row[0] == "on"


def keep_nt_hashes(conn: sqlite3.Connection, enabled: bool) -> None:
    """Turn NT hashes on or off; off forgets every stored one at once."""
    with conn:
        conn.execute("INSERT INTO directory_settings (key, value) VALUES ('nt_hash', ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     ("on" if enabled else "off",))
        if not enabled:
            conn.execute("UPDATE accounts SET nt_hash = NULL WHERE nt_hash IS NOT NULL")


def _nt(conn: sqlite3.Connection, password: str, wanted: bool | None) -> str | None:
    keep = keeps_nt_hashes(conn) if wanted is None else wanted
    return passwords.nt_hash(password) if keep else None


def create(conn: sqlite3.Connection, person_id: int, login: str, password: str,
           now: float, *, with_nt_hash: bool | None = None,
           password_hash: str | None = None) -> int:
    """A new account for ``person_id`` with an initial password to change at first login.

    ``password_hash``: the argon2id hash of ``password`` made beforehand (imports hash a batch
    on every core before their transaction). ``with_nt_hash``: None follows the store's
    setting (``keeps_nt_hashes``)."""
    if not logins.LOGIN_RE.match(login):
        raise CarineError(f"{login!r} is not a valid login",
                          "lower-case letters, digits, '.', '_' or '-', starting with a letter")
    if logins.taken(conn, login):
        raise CarineError(f"the login {login!r} is already used (logins are never reused)")
    logins.record(conn, login)
    cur = conn.execute(
        "INSERT INTO accounts (person_id, login, password_hash, nt_hash, must_change, created_at)"
        " VALUES (?, ?, ?, ?, 1, ?)",
        (person_id, login, password_hash or passwords.hash_password(password),
         _nt(conn, password, with_nt_hash), now))
    return int(cur.lastrowid or 0)


def authenticate(conn: sqlite3.Connection, login: str, password: str, now: float,
                 lockout: Lockout = Lockout()) -> AuthResult:
    """Check ``password`` for ``login`` and count the failure if it is wrong.

    A locked or deactivated account is refused before its password is looked at; an unknown
    login costs the same hash verification as a known one."""
    row = conn.execute(_SELECT + " WHERE a.login = ?", (login.strip().lower(),)).fetchone()
    if row is None:
        passwords.verify(None, password)
        return AuthResult(Outcome.UNKNOWN)
    account = _account(row)
    if not account.active:
        return AuthResult(Outcome.DEACTIVATED, account)
    if row["locked_until"] is not None and row["locked_until"] > now:
        return AuthResult(Outcome.LOCKED, account, row["locked_until"])
    if not passwords.verify(row["password_hash"], password):
        failures = row["failures"] + 1
        locked = now + lockout.minutes * 60 if failures >= lockout.attempts else None
        conn.execute("UPDATE accounts SET failures = ?, locked_until = ? WHERE id = ?",
                     (0 if locked else failures, locked, account.id))
        conn.commit()
        if locked:
            return AuthResult(Outcome.LOCKED, account, locked)
        return AuthResult(Outcome.BAD_PASSWORD, account)
    stored = row["password_hash"]
    if passwords.needs_rehash(stored):  # parameters raised since: upgrade while we have it
        stored = passwords.hash_password(password)
    # PEAP-MSCHAPv2 turned on after the password was set: the clear password is here now.
    nt = row["nt_hash"] or _nt(conn, password, None)
    conn.execute("UPDATE accounts SET failures = 0, locked_until = NULL, password_hash = ?, "
                 "nt_hash = ? WHERE id = ?", (stored, nt, account.id))
    conn.commit()
    return AuthResult(Outcome.OK, account)


def set_password(conn: sqlite3.Connection, account_id: int, password: str, now: float, *,
                 must_change: bool = False, with_nt_hash: bool | None = None) -> None:
    """Replace an account's password (the caller has checked the old one or is the referent);
    the NT hash follows the store's setting unless ``with_nt_hash`` says otherwise."""
    conn.execute(
        "UPDATE accounts SET password_hash = ?, nt_hash = ?, must_change = ?, "
        "password_changed_at = ?, failures = 0, locked_until = NULL WHERE id = ?",
        (passwords.hash_password(password), _nt(conn, password, with_nt_hash),
         int(must_change), now, account_id))
    conn.commit()


def acknowledge_charter(conn: sqlite3.Connection, account_id: int, version: str,
                        now: float) -> None:
    """Record that the account's user accepted the charter ``version`` at ``now`` (D-AUT-5)."""
    conn.execute("UPDATE accounts SET charter_version = ?, charter_at = ? WHERE id = ?",
                 (version, now, account_id))
    conn.commit()


def unlock(conn: sqlite3.Connection, account_id: int) -> None:
    """Lift a lockout (the referent, after checking who is asking)."""
    conn.execute("UPDATE accounts SET failures = 0, locked_until = NULL WHERE id = ?",
                 (account_id,))
    conn.commit()
