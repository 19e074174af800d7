"""``carine filter open|close|openings`` and ``carine filter requests [grant|refuse]``: the
teacher's openings and the referent's answers to unblock requests, from the command line.

They call ``filtering.operations`` (as the console does) and journal each change (D-LOG-3)."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.clock import SYSTEM, Clock, format_local, parse_local, zone
from appliance.state import connect
from filtering import operations, store
from filtering.config import FilterConfig
from filtering.policy import INTERNET

log = logging.getLogger("carine.filter")
CLOCK: Clock = SYSTEM  # tests put a FixedClock here


def _config(args: argparse.Namespace) -> FilterConfig:
    return FilterConfig.load(args.config or paths.of(args).etc("carine/filtering.json"))


def _tz(config: FilterConfig) -> str:
    return str(getattr(config, "timezone", "Europe/Paris"))


def _until(args: argparse.Namespace, tz: str, now: datetime) -> datetime:
    """``--minutes M`` from now, or ``--until`` a local time (HH:MM today, or a full date)."""
    if args.until is None:
        return now + timedelta(minutes=args.minutes)
    try:
        hhmm = time.fromisoformat(args.until)
    except ValueError:
        return parse_local(args.until, tz)
    local_day = now.astimezone(zone(tz)).date()
    return parse_local(datetime.combine(local_day, hhmm).isoformat(), tz)


def _by(args: argparse.Namespace) -> str:
    return str(args.by or os.environ.get("SUDO_USER") or getpass.getuser())


def _journal(args: argparse.Namespace, fields: dict[str, str | int | None], now: datetime) -> None:
    """Record the action in the legal journal's admin records, where the appliance has one."""
    from appliance.journal import Journal
    from appliance.journal.config import load

    path = args.journal_config or paths.of(args).etc("carine/journal.json")
    if not path.exists():
        log.warning("no journal configuration at %s: the action is not journaled", path)
        return
    Journal.open(load(path).root).append("admin", fields, at=now)


def _categories(config: FilterConfig) -> operations.Categories | None:
    """The index's lookup, to know a host's categories (None without an index: then only the
    national domains, not its categories, are checked)."""
    from filtering.index import Index

    if not config.index.exists():
        log.warning("no filtering index at %s: national categories not checked", config.index)
        return None
    index = Index.open(config.index)
    return lambda host: index.lookup(host, None)


def _open(args: argparse.Namespace) -> int:
    config, now = _config(args), CLOCK.now()
    tz = _tz(config)
    conn = connect(config.store)
    store.prepare(conn)
    done = operations.open_site(conn, config, args.site, args.zone, _until(args, tz, now),
                                _by(args), now, _categories(config))
    _journal(args, {"actor": done.by, "action": "filter.open", "target": done.domain,
                    "zone": done.zone, "until": done.until.isoformat()}, now)
    what = "the whole internet" if done.domain == INTERNET else done.domain
    print(f"opening {done.number}: {what} for {done.zone} until {format_local(done.until, tz)}")
    return 0


def _close(args: argparse.Namespace) -> int:
    config, now = _config(args), CLOCK.now()
    conn = connect(config.store)
    store.prepare(conn)
    done = operations.close(conn, args.number, now, args.by)
    _journal(args, {"actor": _by(args), "action": "filter.close", "target": done.domain,
                    "zone": done.zone, "opening": done.number}, now)
    print(f"opening {done.number} closed: {done.domain} for {done.zone}")
    return 0


def _openings(args: argparse.Namespace) -> int:
    config, now = _config(args), CLOCK.now()
    conn = connect(config.store)
    store.prepare(conn)
    rows = operations.running(conn, now)
    for o in rows:
        print(f"{o.number:4}  {o.domain:30} {o.zone:10} until "
              f"{format_local(o.until, _tz(config))}  by {o.by}")
    if not rows:
        print("no running opening")
    return 0


def _requests(args: argparse.Namespace) -> int:
    config, now = _config(args), CLOCK.now()
    tz = _tz(config)
    conn = connect(config.store)
    store.prepare(conn)
    action = getattr(args, "answer_command", None)
    if action == "grant":
        until = None if args.permanent else _until(args, tz, now)
        done = operations.grant(conn, config, args.number, _by(args), now, until,
                                _categories(config), args.answer)
        line = f"request {done.number}: {done.host} " + (
            f"opened for {done.zone} until {format_local(done.until, tz)}"
            if done.until is not None else "allowed for the whole school")
    elif action == "refuse":
        operations.refuse(conn, args.number, _by(args), now, args.answer)
        line = f"request {args.number}: refused"
    else:
        rows = store.unblock_requests(conn, args.status)
        for r in rows:
            print(f"{r['id']:4}  {format_local(datetime.fromisoformat(r['created']), tz)}  "
                  f"{r['client']:15} {r['host']:30} {r['category']:12} {r['reason']}"
                  f"{'  « ' + r['comment'] + ' »' if r['comment'] else ''}")
        if not rows:
            print(f"no {args.status} request")
        return 0
    _journal(args, {"actor": _by(args), "action": f"filter.request.{action}",
                    "target": str(args.number), "answer": args.answer}, now)
    print(line)
    return 0


def _common(p: argparse.ArgumentParser, default: Any = None) -> None:
    # A nested parser (requests grant) takes SUPPRESS: its defaults must not hide the options
    # given before its name.
    p.add_argument("--config", type=Path, default=default, help="the rendered filtering.json "
                   "(default /etc/carine/filtering.json, or the lab's with carine --lab)")
    p.add_argument("--journal-config", type=Path, default=default, help="the rendered "
                   "journal.json (default: beside filtering.json's default)")
    p.add_argument("--by", default=default,
                   help="who acts (default: the login running the command)")


def _when(p: argparse.ArgumentParser, minutes: int | None = 55) -> None:
    p.add_argument("--minutes", type=int, default=minutes, help="from now (default 55)")
    p.add_argument("--until", help="a local time: 16:30 today, or 2026-03-10T16:30")


def register_operations(cmds: Any) -> None:
    """Add the openings and requests commands to ``carine filter``."""
    c = cmds.add_parser("open", help="open a site (or * : the whole internet) for a zone "
                        "for a while; the national layer stays closed")
    c.add_argument("site", help="a site and its subdomains (fr.wikipedia.org), or *")
    c.add_argument("--zone", required=True, help="a filtered zone (pedago...)")
    _when(c)
    _common(c)
    c.set_defaults(func=_open)

    c = cmds.add_parser("close", help="end a running opening now")
    c.add_argument("number", type=int, help="its number (carine filter openings)")
    _common(c)
    c.set_defaults(func=_close)

    c = cmds.add_parser("openings", help="the running openings")
    _common(c)
    c.set_defaults(func=_openings)

    c = cmds.add_parser("requests", help="pupils' unblock requests; grant or refuse one")
    c.add_argument("--status", default="open", choices=("open", "granted", "refused"))
    _common(c)
    c.set_defaults(func=_requests)
    answer = c.add_subparsers(dest="answer_command", required=False)
    g = answer.add_parser("grant", help="open the site for the requester's zone for a while "
                          "(or --permanent: allow it for the whole school)")
    g.add_argument("number", type=int)
    _when(g)
    g.add_argument("--permanent", action="store_true", help="a school exception, no end")
    g.add_argument("--answer", default="", help="what the pupil reads")
    _common(g, argparse.SUPPRESS)
    r = answer.add_parser("refuse", help="refuse, with the reason the pupil reads")
    r.add_argument("number", type=int)
    r.add_argument("--answer", required=True, help="why (the pupil reads it on /bloques)")
    _common(r, argparse.SUPPRESS)
