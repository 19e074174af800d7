"""``carine journal``: verify, seal, purge, grant/revoke the reading role, query, export, and
ingest Squid's log or conntrack's table by hand (the journal daemon does it continuously)."""

from __future__ import annotations

import argparse
import getpass
import json
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.clock import SYSTEM, parse_local, to_local
from appliance.journal import access, conntrack, roles, squidlog
from appliance.journal.attribution import Attribution
from appliance.journal.config import JournalConfig, load
from appliance.journal.purge import purge
from appliance.journal.records import JournalError, to_micros
from appliance.journal.seal import pack_due, seal_due
from appliance.journal.store import Journal
from appliance.journal.verify import verify


def _config(args: argparse.Namespace) -> JournalConfig:
    where = paths.of(args)
    config = load(args.config or (where.etc("carine/journal.json") if where.lab else None))
    if args.root is not None:
        config = JournalConfig(**{**config.__dict__, "root": args.root})
    return config


def _time(text: str, tz: str) -> datetime:
    """A time given on the command line: with its offset, or the school's local time."""
    return parse_local(text, tz)


TIMES = ("at", "first", "last")  # the fields of an answer that are times


def _local(row: dict[str, Any], tz: str) -> dict[str, Any]:
    """An answer with its times (nested ones too) in the school's zone, offset included."""
    return {k: (to_local(datetime.fromisoformat(v), tz).isoformat()
                if k in TIMES and isinstance(v, str)
                else _local(v, tz) if isinstance(v, dict) else v) for k, v in row.items()}


def _verify(args: argparse.Namespace) -> int:
    report = verify(_config(args).root)
    for problem in report.problems:
        print(f"FAIL {problem}")
    print(f"{report.segments} segments, {report.records} records, {report.seals} seals: "
          f"{'intact' if report.ok else f'{len(report.problems)} problem(s)'}")
    return 0 if report.ok else 1


def _seal(args: argparse.Namespace) -> int:
    root = _config(args).root
    now = SYSTEM.now()
    for line in seal_due(root, now) + pack_due(root, now):
        print(line)
    return 0


def _purge(args: argparse.Namespace) -> int:
    config = _config(args)
    for line in purge(config.root, config.retention, SYSTEM.now()):
        print(line)
    return 0


def _grant(args: argparse.Namespace) -> int:
    with Journal.open(_config(args).root) as journal:
        (roles.grant if args.journal_command == "grant" else roles.revoke)(
            journal, args.operator, args.by or getpass.getuser())
    print(f"{args.journal_command}: {args.operator} ({roles.ROLE})")
    return 0


def _roles(args: argparse.Namespace) -> int:
    for name in roles.controllers(_config(args).root):
        print(f"{name}\t{roles.ROLE}")
    return 0


def _print(rows: list[dict[str, Any]], tz: str) -> None:
    for row in rows:
        print(json.dumps(_local(row, tz), ensure_ascii=False, sort_keys=True))


def _query(args: argparse.Namespace) -> int:
    config = _config(args)
    with Journal.open(config.root) as journal:
        if args.host:
            if not args.day:
                raise JournalError("--host needs --day")
            rows = access.visited(journal, args.operator, args.host,
                                  date.fromisoformat(args.day), config.timezone)
        elif args.ip and args.at:
            rows = access.who_had(journal, args.operator, args.ip,
                                  _time(args.at, config.timezone), args.port)
        else:
            raise JournalError("say what to look for", "--ip X --at T [--port P], or "
                               "--host H --day D")
    _print(rows, config.timezone)
    print(f"{len(rows)} answer(s)", flush=True)
    return 0


def _export(args: argparse.Namespace) -> int:
    config = _config(args)
    out = args.out or Path(f"journal-export-{int(time.time())}.zip")
    with Journal.open(config.root) as journal:
        count, digest = access.export_to(journal, args.operator,
                                         _time(args.start, config.timezone),
                                         _time(args.end, config.timezone), out, ip=args.ip,
                                         user=args.user, school=config.school)
    print(f"{out}: {count} records, sha256 {digest}")
    return 0


def _ingest_squid(args: argparse.Namespace) -> int:
    total = skipped = 0
    config = _config(args)
    sessions = Attribution(config.sessions) if config.sessions else None
    with Journal.open(config.root, bulk=True) as journal, args.file.open(
            encoding="utf-8", errors="replace") as log:
        while True:
            lines = log.readlines(32 << 20)  # ~100,000 lines a transaction
            if not lines:
                break
            if sessions is not None:
                sessions.refresh()
            rows, bad = squidlog.parse_lines(lines, sessions.login_at if sessions else None)
            journal.append_micros("navigation", rows)
            total, skipped = total + len(rows), skipped + bad
    if sessions is not None:
        sessions.close()
    print(f"{args.file}: {total} navigation records, {skipped} lines skipped")
    return 0


def _ingest_nat(args: argparse.Namespace) -> int:
    prefix = ("ip", "netns", "exec", args.netns) if args.netns else ()
    rows = conntrack.NatPoller(prefix).poll(to_micros(None))
    with Journal.open(_config(args).root) as journal:
        journal.append_micros("nat", rows)
    print(f"{len(rows)} NAT records")
    return 0


def register(sub: Any) -> None:
    """Add the ``journal`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("journal", help="the legal journal")
    p.add_argument("--config", type=Path, help="journal.json (default /etc/carine/journal.json, "
                   "or the lab's with carine --lab)")
    p.add_argument("--root", type=Path, help="journal folder (overrides the configuration)")
    cmds = p.add_subparsers(dest="journal_command", required=True)
    cmds.add_parser("verify", help="check every chain, seal and ledger line").set_defaults(
        func=_verify)
    cmds.add_parser("seal", help="seal the days that ended").set_defaults(func=_seal)
    cmds.add_parser("purge", help="seal, then remove days past retention").set_defaults(
        func=_purge)
    for name in ("grant", "revoke"):
        c = cmds.add_parser(name, help=f"{name} the data-controller role")
        c.add_argument("operator")
        c.add_argument("--by", help="who grants (default: the system user)")
        c.set_defaults(func=_grant)
    cmds.add_parser("roles", help="who holds the data-controller role").set_defaults(
        func=_roles)
    c = cmds.add_parser("query", help="who had an IP at a time, who visited a host on a day")
    c.add_argument("--operator", required=True, help="data controller asking (journaled)")
    c.add_argument("--ip")
    c.add_argument("--port", type=int, help="public source port (NAT)")
    c.add_argument("--at", help="time, ISO 8601: the school's local time unless an offset is given")
    c.add_argument("--host")
    c.add_argument("--day", help="calendar day in the school's time zone, YYYY-MM-DD")
    c.set_defaults(func=_query)
    c = cmds.add_parser("export", help="the file for a judicial request, with its proof")
    c.add_argument("--operator", required=True, help="data controller exporting (journaled)")
    c.add_argument("--from", dest="start", required=True, help="ISO 8601 with zone")
    c.add_argument("--to", dest="end", required=True, help="ISO 8601 with zone")
    who = c.add_mutually_exclusive_group(required=True)
    who.add_argument("--ip")
    who.add_argument("--user")
    c.add_argument("--out", type=Path, help="zip file to write (0600)")
    c.set_defaults(func=_export)
    c = cmds.add_parser("ingest-squid", help="navigation records from a Squid access log")
    c.add_argument("file", type=Path)
    c.set_defaults(func=_ingest_squid)
    c = cmds.add_parser("ingest-nat", help="NAT records from the conntrack table, once")
    c.add_argument("--netns", help="network namespace of the appliance (lab)")
    c.set_defaults(func=_ingest_nat)
