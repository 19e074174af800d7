"""`carine storage depot open|until|list` and `carine storage grant|usage`: drop boxes opened
for a teacher or given a deadline, rights on one item, who uses how much (school's time)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.clock import format_local, parse_local
from appliance.directory import schema
from appliance.site import load_site
from appliance.state import connect
from storage import drops, quota, rights
from storage.tree import SPACES


def _conn(args: argparse.Namespace) -> Any:
    conn = connect(args.state / "state.sqlite")
    schema.prepare(conn)
    for module in (drops, quota, rights):
        module.prepare(conn)
    return conn


def _open(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    tz = site.school.timezone
    until = parse_local(args.until, tz).timestamp() if args.until else None
    box = drops.open_box(_conn(args), args.class_code, args.name, args.teacher, until,
                         time.time(), site.directory.profiles.teacher)
    shown = format_local(until, tz) if until is not None else "sans date limite"
    print(f"dépôt {box.class_code}/{box.name} ouvert par {box.teacher} ({shown}): "
          f"/depots/{box.class_code}/{box.name}/")
    return 0


def _until(args: argparse.Namespace) -> int:
    tz = load_site(args.site).school.timezone
    until = None if args.when == "aucune" else parse_local(args.when, tz).timestamp()
    box = drops.set_deadline(_conn(args), args.class_code, args.name, until)
    shown = format_local(until, tz) if until is not None else "sans date limite"
    print(f"dépôt {box.class_code}/{box.name} : {shown}")
    return 0


def _list(args: argparse.Namespace) -> int:
    tz = load_site(args.site).school.timezone
    for box in drops.boxes(_conn(args), args.class_code).values():
        until = format_local(box.deadline, tz) if box.deadline else "-"
        print(f"{box.class_code}/{box.name}\t{box.teacher}\t{until}")
    return 0


def _grant(args: argparse.Namespace) -> int:
    rights.grant(_conn(args), args.space, args.share or "", args.path, args.principal,
                 args.rights)
    print(f"{args.principal}: '{args.rights}' on /{args.space}/"
          f"{args.share + '/' if args.share else ''}{args.path.strip('/')}")
    return 0


def _usage(args: argparse.Namespace) -> int:
    rows = _conn(args).execute("SELECT owner, SUM(size), COUNT(*) FROM storage_files "
                               "GROUP BY owner ORDER BY SUM(size) DESC").fetchall()
    for owner, size, count in rows:
        print(f"{owner or '(partagé)'}\t{int(size)}\t{count}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("storage", help="storage: drop boxes, rights, usage")
    p.add_argument("--state", type=Path, default=paths.Default("state"),
                   help="state folder (default: %(default)s; the lab's with --lab)")
    p.add_argument("--site", type=Path, default=paths.Default("site"),
                   help="site file, for its time zone (default: %(default)s)")
    cmds = p.add_subparsers(dest="storage_cmd", required=True)
    d = cmds.add_parser("depot", help="drop boxes (dépôt de devoirs)")
    dc = d.add_subparsers(dest="depot_cmd", required=True)
    o = dc.add_parser("open", help="open a drop box for a class")
    o.add_argument("class_code", metavar="CLASS")
    o.add_argument("name")
    o.add_argument("--teacher", required=True, help="login of one of the class's teachers")
    o.add_argument("--until", help="deadline, local time (2026-12-10T18:00)")
    o.set_defaults(func=_open)
    t = dc.add_parser("until", help="set a drop box's deadline (one a teacher opened)")
    t.add_argument("class_code", metavar="CLASS")
    t.add_argument("name")
    t.add_argument("when", help="local time (2026-12-10T18:00), or 'aucune' for none")
    t.set_defaults(func=_until)
    ls = dc.add_parser("list", help="a class's drop boxes")
    ls.add_argument("class_code", metavar="CLASS")
    ls.set_defaults(func=_list)
    g = cmds.add_parser("grant", help="rights on one item for a user, group or category")
    g.add_argument("space", choices=[s for s in SPACES if s not in ("perso", "depots")])
    g.add_argument("path", help="path inside the share ('' for the whole share)")
    g.add_argument("principal", help="user:LOGIN, group:CODE or category:pupil|teacher|staff")
    g.add_argument("rights", help="'', r, rm, rd or rmd")
    g.add_argument("--share", help="class or group code (for classes and groupes)")
    g.set_defaults(func=_grant)
    u = cmds.add_parser("usage", help="bytes and files per owner")
    u.set_defaults(func=_usage)
