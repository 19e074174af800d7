"""Guest vouchers (D-AUT-1): codes made by the referent, stored as keyed hashes, each usable
once, to be used before a date, opening a session of a fixed length; and their print sheet."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from html import escape

from appliance.clock import DEFAULT_ZONE, from_timestamp, to_local
from appliance.errors import CarineError

# No look-alikes (0/O, 1/I/L): the code is read from paper and typed on a phone.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP = 2, 5  # ABCDE-FGHJK: 31^10, about 49 bits, for a code tried 10 times a minute


@dataclass(frozen=True)
class Voucher:
    id: int
    batch: str
    profile: str
    valid_minutes: int
    expires_at: float


def new_code() -> str:
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP))
                    for _ in range(GROUPS))


def canonical(code: str) -> str:
    """What the user typed, as hashed: capitals, without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())[:64]


def code_hash(key: bytes, code: str) -> str:
    """HMAC-SHA256 of the canonical code: a stolen store does not give the codes away."""
    return hmac.new(key, canonical(code).encode("ascii", "ignore"), hashlib.sha256).hexdigest()


def create(conn: sqlite3.Connection, key: bytes, *, count: int, minutes: int, profile: str,
           valid_days: int, by: str, now: float, approval: bool = False
           ) -> tuple[str, list[str]]:
    """``count`` new codes in one batch; (batch name, codes). Only the hashes are kept. With
    ``approval`` the codes work only once the head of school approved the batch (``decide``)."""
    if not 1 <= count <= 1000:
        raise CarineError(f"{count} vouchers: between 1 and 1000 at a time")
    if not 1 <= minutes <= 7 * 24 * 60:
        raise CarineError(f"{minutes} minutes: a voucher lasts 1 minute to 7 days")
    if not 1 <= valid_days <= 365:
        raise CarineError(f"{valid_days} days: a voucher must be used within 1 to 365 days")
    # A name, not a time to read: UTC, so it does not depend on the machine's zone.
    batch = from_timestamp(now).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    codes = [new_code() for _ in range(count)]
    with conn:
        conn.executemany(
            "INSERT INTO vouchers (code_hash, batch, profile, valid_minutes, expires_at, "
            "created_by, created_at) VALUES (?,?,?,?,?,?,?)",
            [(code_hash(key, c), batch, profile, minutes, now + valid_days * 86400, by, now)
             for c in codes])
        if approval:
            conn.execute("INSERT INTO voucher_approvals (batch, asked_by, asked_at) "
                         "VALUES (?,?,?)", (batch, by, now))
    return batch, codes


def pending(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Batches waiting for the head of school's decision, oldest first, with their counts."""
    return conn.execute(
        "SELECT a.batch, a.asked_by, a.asked_at, v.profile, v.valid_minutes, "
        "MIN(v.expires_at) AS expires_at, COUNT(*) AS total FROM voucher_approvals a "
        "JOIN vouchers v ON v.batch = a.batch WHERE a.decided_at IS NULL "
        "GROUP BY a.batch ORDER BY a.asked_at").fetchall()


def decide(conn: sqlite3.Connection, batch: str, by: str, approved: bool, now: float) -> None:
    """Approve or refuse a waiting batch; refused codes never work."""
    with conn:
        cur = conn.execute("UPDATE voucher_approvals SET decided_by = ?, decided_at = ?, "
                           "approved = ? WHERE batch = ? AND decided_at IS NULL",
                           (by, now, int(approved), batch))
    if cur.rowcount != 1:
        raise CarineError(f"no voucher batch {batch!r} waits for a decision")


def redeem(conn: sqlite3.Connection, key: bytes, code: str, ip: str, mac: str | None,
           now: float) -> Voucher | str:
    """Use ``code`` once: the voucher, or why not ("unknown", "used", "expired", "pending" the
    head's approval, "refused" by the head)."""
    digest = code_hash(key, code)
    with conn:
        decision = conn.execute(
            "SELECT a.approved, a.decided_at FROM voucher_approvals a JOIN vouchers v "
            "ON v.batch = a.batch WHERE v.code_hash = ?", (digest,)).fetchone()
        if decision is not None and decision[0] != 1:
            return "pending" if decision[1] is None else "refused"
        cur = conn.execute(
            "UPDATE vouchers SET used_at = ?, used_ip = ?, used_mac = ? "
            "WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?",
            (now, ip, mac, digest, now))
        row = conn.execute("SELECT id, batch, profile, valid_minutes, expires_at, used_at "
                           "FROM vouchers WHERE code_hash = ?", (digest,)).fetchone()
    if row is None:
        return "unknown"
    if cur.rowcount == 0:
        return "used" if row[5] is not None else "expired"
    return Voucher(int(row[0]), row[1], row[2], int(row[3]), float(row[4]))


def batches(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Each batch with its counts (for `carine vouchers list`)."""
    return conn.execute(
        "SELECT batch, profile, valid_minutes, MIN(expires_at) AS expires_at, "
        "COUNT(*) AS total, COUNT(used_at) AS used, MIN(created_by) AS created_by "
        "FROM vouchers GROUP BY batch ORDER BY MIN(created_at)").fetchall()


def sheet(school: str, codes: list[str], *, minutes: int, profile: str, valid_until: float,
          batch: str, tz: str = DEFAULT_ZONE) -> str:
    """A print-ready HTML page: one cut-out card per code (A4, 2 columns); the last day of
    use is the school's (zone ``tz``)."""
    until = to_local(valid_until, tz).strftime("%d/%m/%Y")
    length = f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"
    cards = "\n".join(
        f'<div class="ticket"><p class="ecole">{escape(school)}</p>'
        f'<p>Accès invité à internet</p><p class="code">{escape(c)}</p>'
        f"<p>1. Connectez-vous au Wi-Fi ou au réseau invité.<br>2. Ouvrez un navigateur : la "
        f"page de connexion s'affiche.<br>3. Choisissez « Ticket invité » et saisissez le code."
        f"</p><p class=\"petit\">Valable une fois, {length} de connexion, jusqu'au {until}. "
        f"Profil {escape(profile)}. Lot {escape(batch)}.</p></div>" for c in codes)
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Tickets invités – lot {escape(batch)}</title>
<style>
@page{{size:A4;margin:10mm}}
body{{font:11pt/1.4 system-ui,Arial,sans-serif;color:#161616;margin:0}}
.grille{{display:grid;grid-template-columns:1fr 1fr;gap:4mm}}
.ticket{{border:1px dashed #3a3a3a;padding:4mm;break-inside:avoid}}
.ticket p{{margin:0 0 2mm}}
.ecole{{font-weight:700}}
.code{{font:700 18pt/1.2 ui-monospace,Consolas,monospace;letter-spacing:.1em}}
.petit{{font-size:9pt;color:#3a3a3a}}
</style></head>
<body><h1 class="ecole">Tickets invités ({len(codes)}) – à découper</h1>
<div class="grille">
{cards}
</div></body></html>
"""
