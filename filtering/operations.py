"""What a teacher or the referent does to the filter (D-FIL-5, D-FIL-6): open a site or the whole
internet for a zone until a time, close it, grant or refuse a pupil's unblock request.

One place for the command line and the console: each function checks, then writes the state
store once; the national layer is never opened (an opening or a grant it would cover is refused)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.errors import CarineError
from filtering import store
from filtering.config import FilterConfig
from filtering.names import Malformed, normalise_domain
from filtering.policy import INTERNET, Policy

LONGEST = timedelta(hours=12)  # an opening is for a lesson or a day, never "for ever"
# The categories a host is listed in (the index's lookup), when the index is at hand.
Categories = Callable[[str], frozenset[str]]


@dataclass(frozen=True)
class Running:
    """A running opening, by number."""

    number: int
    domain: str
    zone: str
    until: datetime
    by: str


def domain_of(text: str) -> str:
    """``*`` (the whole internet) or the normal form of a site's name."""
    if text.strip() in (INTERNET, "internet"):
        return INTERNET
    try:
        return normalise_domain(text.strip())
    except Malformed as exc:
        raise CarineError(f"{text!r} is not a site name: {exc}",
                          "e.g. fr.wikipedia.org, or * for the whole internet") from exc


def _national(config: FilterConfig, zone: str, host: str, categories: Categories | None,
              now: datetime) -> str | None:
    """Why the national layer blocks ``host`` in ``zone`` (None if it does not)."""
    info = next(z for z in config.zones if z.name == zone)
    listed = categories(host) if categories is not None else frozenset()
    verdict = Policy(config.filtering).decide(info.profile, zone, host, listed, now)
    if verdict.layer != "national":
        return None
    return f"category {verdict.category}" if verdict.category else f"domain {verdict.detail}"


def _zone(config: FilterConfig, zone: str) -> None:
    names = [z.name for z in config.zones]
    if zone not in names:
        raise CarineError(f"{zone!r} is no filtered zone of the site",
                          f"filtered zones: {', '.join(names) or 'none'}")


def open_site(conn: sqlite3.Connection, config: FilterConfig, text: str, zone: str,
              until: datetime, by: str, now: datetime,
              categories: Categories | None = None) -> Running:
    """Open ``text`` (a site and its subdomains, or ``*``) for ``zone`` until ``until``."""
    domain = domain_of(text)
    _zone(config, zone)
    if not now < until <= now + LONGEST:
        raise CarineError(f"an opening ends after now and within {LONGEST} (asked: {until})",
                          "e.g. --minutes 55 or --until 16:30")
    if domain != INTERNET:
        why = _national(config, zone, domain, categories, now)
        if why:
            raise CarineError(f"{domain} is blocked by the national layer ({why}): "
                              "no opening can loosen it", "nothing was opened")
    with conn:
        number = _insert_opening(conn, domain, zone, until, by, now)
    return Running(number, domain, zone, until, by)


def running(conn: sqlite3.Connection, now: datetime) -> list[Running]:
    """Openings still running at ``now``, soonest end first."""
    return [Running(r["id"], r["domain"], r["zone"], datetime.fromisoformat(r["until"]), r["by"])
            for r in store.running_openings(conn, now)]


def close(conn: sqlite3.Connection, number: int, now: datetime, by: str | None = None) -> Running:
    """End running opening ``number`` now (only ``by``'s own when ``by`` is given)."""
    found = next((o for o in running(conn, now) if o.number == number), None)
    if found is None or (by is not None and found.by != by):
        raise CarineError(f"no running opening number {number}"
                          f"{' of ' + by if by is not None else ''}",
                          "carine filter openings lists them")
    store.close_opening(conn, number, found.by, now)
    return found


def request(conn: sqlite3.Connection, number: int) -> sqlite3.Row:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM filter_unblock_requests WHERE id = ?", (number,)).fetchone()
    if row is None:
        raise CarineError(f"no unblock request number {number}",
                          "carine filter requests lists the open ones")
    if row["status"] != "open":
        raise CarineError(f"request {number} was already answered ({row['status']} by "
                          f"{row['decided_by'] or '?'})")
    return row


@dataclass(frozen=True)
class Granted:
    """What a grant did: ``host`` opened for ``zone`` until ``until``, or (both None) allowed
    for the whole school."""

    number: int
    host: str
    zone: str | None
    until: datetime | None


def grant(conn: sqlite3.Connection, config: FilterConfig, number: int, by: str, now: datetime,
          until: datetime | None, categories: Categories | None = None,
          answer: str = "") -> Granted:
    """Grant request ``number``: its host is opened for the requester's zone until ``until``,
    or allowed for the whole school (``until`` None)."""
    row = request(conn, number)
    host = domain_of(row["host"])
    info = config.zone_of(row["client"])
    zones = [info.name] if info is not None else [z.name for z in config.zones]
    for zone in zones:
        why = _national(config, zone, host, categories, now)
        if why:
            raise CarineError(f"{host} is blocked by the national layer ({why}): the request "
                              "cannot be granted", f"refuse it: carine filter requests refuse "
                              f"{number} --answer 'bloqué au niveau national'")
    if until is None:
        with conn:  # both or neither
            conn.execute("DELETE FROM filter_exceptions WHERE domain = ?", (host,))
            conn.execute("INSERT INTO filter_exceptions (domain, action, by, created) "
                         "VALUES (?, 'allow', ?, ?)", (host, by, now.isoformat(timespec="seconds")))
            _answer(conn, number, "granted", answer, by, now, None)
        return Granted(number, host, None, None)
    if info is None:
        raise CarineError(f"the requester {row['client']} is in no filtered zone: an opening "
                          "needs a zone", "grant it for the whole school with --permanent")
    if not now < until <= now + LONGEST:
        raise CarineError(f"an opening ends after now and within {LONGEST} (asked: {until})")
    with conn:
        _insert_opening(conn, host, info.name, until, by, now)
        _answer(conn, number, "granted", answer, by, now, until)
    return Granted(number, host, info.name, until)


def refuse(conn: sqlite3.Connection, number: int, by: str, now: datetime, answer: str) -> None:
    """Refuse request ``number`` with a reason the pupil reads on /bloques."""
    request(conn, number)
    with conn:
        _answer(conn, number, "refused", answer, by, now, None)


def _answer(conn: sqlite3.Connection, number: int, status: str, answer: str, by: str,
            now: datetime, until: datetime | None) -> None:
    # Inside the caller's transaction: the opening or exception and the answer commit together.
    conn.execute("UPDATE filter_unblock_requests SET status = ?, answer = ?, decided_by = ?, "
                 "decided_at = ?, until = ? WHERE id = ? AND status = 'open'",
                 (status, answer, by, now.isoformat(timespec="seconds"),
                  until.isoformat(timespec="seconds") if until else None, number))


def _insert_opening(conn: sqlite3.Connection, domain: str, zone: str, until: datetime, by: str,
                    now: datetime) -> int:
    cur = conn.execute("INSERT INTO filter_openings (domain, zone, until, by, created) VALUES "
                       "(?, ?, ?, ?, ?)", (domain, zone, until.isoformat(timespec="seconds"), by,
                                           now.isoformat(timespec="seconds")))
    return int(cur.lastrowid or 0)
