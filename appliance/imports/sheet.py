"""The password distribution sheet: one cut-out slip per person of a class with their login and
initial password, A4 print-ready HTML. Printed slips leave the pending file."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, replace
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from appliance.clock import DEFAULT_ZONE, to_local
from appliance.directory import passwords
from appliance.files import write_atomic
from appliance.imports import pending

PER_PAGE = 8  # 2 columns x 4 rows of 62 mm on A4


@dataclass(frozen=True)
class SheetResult:
    printed: int
    stale: int  # slips dropped: the password was changed or the account is gone
    path: Path


def _divisions(conn: sqlite3.Connection) -> dict[str, str]:
    """Login -> class of the people who are pupils of a class (teachers teach several)."""
    rows = conn.execute("SELECT a.login, MIN(g.code) FROM accounts a JOIN memberships m ON "
                        "m.person_id = a.person_id JOIN groups g ON g.id = m.group_id JOIN "
                        "people p ON p.id = a.person_id WHERE g.kind = 'class' AND p.category "
                        "IN ('Eleve', 'csv', 'local') GROUP BY a.login HAVING COUNT(*) = 1")
    return {str(r[0]): str(r[1]) for r in rows}


def _still_valid(conn: sqlite3.Connection, slip: pending.Slip) -> bool:
    row = conn.execute("SELECT password_hash, must_change, state FROM accounts WHERE login = ?",
                       (slip.login,)).fetchone()
    return bool(row and row["must_change"] and row["state"] == "active"
                and passwords.verify(row["password_hash"], slip.password))


def make_sheet(conn: sqlite3.Connection, state: Path, out: Path, division: str | None,
               school: str, portal: str, keep: bool = False,
               now: float | None = None, tz: str = DEFAULT_ZONE) -> SheetResult:
    """Write the slips of ``division`` (None: every pending slip) to ``out`` (0600: it holds
    passwords) and, unless ``keep``, drop them from the pending file; the date printed is
    the school's (zone ``tz``)."""
    now = time.time() if now is None else now
    slips = pending.load(state, now)
    current = _divisions(conn)  # the class today, not at import: pupils move between classes
    slips = {k: replace(s, division=current.get(k, s.division)) for k, s in slips.items()}
    chosen = sorted((s for s in slips.values() if division is None or s.division == division),
                    key=lambda s: (s.division or "", s.last_name.lower(), s.first_name.lower()))
    valid = [s for s in chosen if _still_valid(conn, s)]
    env = Environment(loader=PackageLoader("appliance.imports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("sheet.html.j2").render(
        title=f"classe {division}" if division else "tous les comptes en attente",
        school=school, portal=portal, printed=to_local(now, tz).strftime("%d/%m/%Y"),
        pages=[valid[i:i + PER_PAGE] for i in range(0, len(valid), PER_PAGE)])
    write_atomic(out, html, mode=0o600)
    if not keep:
        done = {s.login for s in chosen}
        pending.save(state, {k: s for k, s in slips.items() if k not in done})
    return SheetResult(len(valid), len(chosen) - len(valid), out)
