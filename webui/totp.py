"""The second factor (RFC 6238, pyotp): a secret per account, codes of 6 digits every 30 s,
one step of drift either way, and no code accepted twice (the last used step is kept)."""

from __future__ import annotations

import sqlite3

import pyotp

STEP = 30
DRIFT = 1  # steps either side: a phone clock a little off still works


def secret_of(conn: sqlite3.Connection, account_id: int) -> str | None:
    row = conn.execute("SELECT secret FROM console_totp WHERE account_id = ?",
                       (account_id,)).fetchone()
    return str(row[0]) if row else None


def enrol(conn: sqlite3.Connection, account_id: int, now: float,
          secret: str | None = None) -> str:
    """A new secret for the account (replacing any); returns it to show once."""
    chosen = secret or pyotp.random_base32()
    with conn:
        conn.execute("INSERT INTO console_totp (account_id, secret, last_step, created_at) "
                     "VALUES (?, ?, 0, ?) ON CONFLICT(account_id) DO UPDATE SET "
                     "secret = excluded.secret, last_step = 0, created_at = excluded.created_at",
                     (account_id, chosen, now))
    return chosen


def uri(secret: str, login: str, school: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name=f"CARINE {school}")


def verify(conn: sqlite3.Connection, account_id: int, code: str, now: float) -> bool:
    """Whether ``code`` is good at ``now`` and newer than every code used before (replay)."""
    row = conn.execute("SELECT secret, last_step FROM console_totp WHERE account_id = ?",
                       (account_id,)).fetchone()
    code = code.strip().replace(" ", "")
    if row is None or not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(row["secret"])
    current = int(now) // STEP
    for step in range(current - DRIFT, current + DRIFT + 1):
        if step > row["last_step"] and pyotp.utils.strings_equal(totp.at(step * STEP), code):
            with conn:
                # Compare-and-set: two requests racing with one code cannot both win.
                cur = conn.execute("UPDATE console_totp SET last_step = ? WHERE account_id = ? "
                                   "AND last_step < ?", (step, account_id, step))
            return cur.rowcount == 1
    return False
