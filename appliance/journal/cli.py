"""``carine journal``: verify, seal, purge, grant/revoke the reading role, query, export, and
ingest Squid's log or conntrack's table by hand (the journal daemon does it continuously)."""

from __future__ import annotations

import argparse
import getpass
import json
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from appliance.journal import access, conntrack, roles, squidlog
from appliance.journal.config import JournalConfig, load
from appliance.journal.purge import purge
from appliance.journal.records import JournalError, to_micros
from appliance.journal.seal import seal_due
from appliance.journal.store import Journal
from appliance.journal.verify import verify


def _config(args: argparse.Namespace) -> JournalConfig:
    config = load(args.config)
    if args.root is not None:
        config = JournalConfig(**{**config.__dict__, "root": args.root})
    return config


def _time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise JournalError(f"{text!r} is not a date and time",
                           "ISO 8601, e.g. 2026-03-12T10:15:00+01:00") from exc
    if value.tzinfo is None:
        raise JournalError(f"{text!r} has no time zone", "add +01:00, +02:00 or Z")
    return value.astimezone(UTC)


def _verify(args: argparse.Namespace) -> int:
    report = verify(_config(args).root)
    for problem in report.problems:
        print(f"FAIL {problem}")
    print(f"{report.segments} segments, {report.records} records, {report.seals} seals: "
          f"{'intact' if report.ok else f'{len(report.problems)} problem(s)'}")
    return 0 if report.ok else 1


def _seal(args: argparse.Namespace) -> int:
    for line in seal_due(_config(args).root):
        print(line)
    return 0


def _purge(args: argparse.Namespace) -> int:
    config = _config(args)
    for line in purge(config.root, config.retention):
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


def _print(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(json.dumps(row, ensure_ascii=False, sort_keys=True))


def _query(args: argparse.Namespace) -> int:
    config = _config(args)
    with Journal.open(config.root) as journal:
        if args.host:
            if not args.day:
                raise JournalError("--host needs --day")
            rows = access.visited(journal, args.operator, args.host,
                                  date.fromisoformat(args.day), config.timezone)
        elif args.ip and args.at:
            rows = access.who_had(journal, args.operator, args.ip, _time(args.at), args.port)
        else:
            raise JournalError("say what to look for", "--ip X --at T [--port P], or "
                               "--host H --day D")
    _print(rows)
    print(f"{len(rows)} answer(s)", flush=True)
    return 0


def _export(args: argparse.Namespace) -> int:
    config = _config(args)
    out = args.out or Path(f"journal-export-{int(time.time())}.zip")
    with Journal.open(config.root) as journal:
        count, digest = access.export_to(journal, args.operator, _time(args.start),
                                         _time(args.end), out, ip=args.ip, user=args.user,
                                         school=config.school)
    print(f"{out}: {count} records, sha256 {digest}")
    return 0


def _ingest_squid(args: argparse.Namespace) -> int:
    total = skipped = 0
    with Journal.open(_config(args).root, bulk=True) as journal, args.file.open(
            encoding="utf-8", errors="replace") as log:
        while True:
            lines = log.readlines(32 << 20)  # ~100,000 lines a transaction
            if not lines:
                break
            rows, bad = squidlog.parse_lines(lines)
            journal.append_micros("navigation", rows)
            total, skipped = total + len(rows), skipped + bad
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
    p.add_argument("--config", type=Path, help="journal.json (default /etc/carine/journal.json)")
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
    c.add_argument("--at", help="time, ISO 8601 with zone")
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
