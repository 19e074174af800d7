"""``carine users ...``: import AAF or CSV files, purge, print password sheets, list, show, add
local accounts and reset passwords. Registered through the ``carine.commands`` entry point."""

from __future__ import annotations

import argparse
import getpass
import os
import time
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.clock import DEFAULT_ZONE
from appliance.errors import CarineError


def _actor() -> str:
    return os.environ.get("SUDO_USER") or getpass.getuser()


def _site(args: argparse.Namespace) -> Any:
    from appliance.site import load_site

    where = paths.of(args)
    path = args.site or (where.site if where.lab or where.site.exists() else None)
    return load_site(path) if path else None


def _settings(args: argparse.Namespace) -> Any:
    from appliance.imports.model import Settings

    site = _site(args)
    if site is not None:
        return Settings.from_site(site, args.uai)
    uai = getattr(args, "uai", None)
    return Settings(uais=frozenset({uai}) if uai else None, csv_uai=uai)


def _conn(args: argparse.Namespace) -> Any:
    from appliance.directory.schema import open_directory
    from appliance.state import STATE_FILE

    return open_directory(args.state / STATE_FILE)


def _import(args: argparse.Namespace) -> int:
    from appliance.imports.report import lines
    from appliance.imports.run import run_import

    mode = "full" if args.full else "delta" if args.delta else "auto"
    started = time.monotonic()
    shown = [-1]

    def progress(done: int, total: int) -> None:
        """One line per percent at most: the console draws its bar from the last one."""
        percent = done * 100 // max(total, 1)
        if percent != shown[0]:
            shown[0] = percent
            print(f"progress {done}/{total}", flush=True)

    outcome = run_import(args.files, args.state, _settings(args), dry_run=args.dry_run,
                         mode=mode, force=args.force, max_mb=args.max_mb,
                         encoding=args.encoding, actor=args.actor or _actor(),
                         progress=progress if args.progress else None)
    for line in lines(outcome, per_record=args.dry_run or args.verbose):
        print(line)
    print(f"took {time.monotonic() - started:.2f} s")
    return 0 if outcome.applied or (args.dry_run and not outcome.blocking) else 3


def _purge(args: argparse.Namespace) -> int:
    from appliance.imports.lifecycle import purge
    from appliance.imports.run import locked

    with locked(args.state):
        found = purge(_conn(args), args.state, args.state / "journal", time.time(),
                      rollover=args.rollover, actor=_actor(), dry_run=args.dry_run)
    for p in found:
        print(f"{'would purge' if args.dry_run else 'purged'} {p.login or '-'} "
              f"({p.source} {p.profile} {p.key})")
    print(f"{len(found)} {'to purge' if args.dry_run else 'purged'}")
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from appliance.imports.sheet import make_sheet

    if not args.division and not args.all:
        raise CarineError("say which slips to print", "--class CODE, or --all")
    site = _site(args)
    portal = args.portal or (site.directory.portal_address if site else None) or \
        (f"http://portail.{site.lan.domain}/" if site else "http://portail/")
    school = site.school.name if site else ""
    result = make_sheet(_conn(args), args.state, args.out, args.division, school, portal,
                        args.keep, tz=site.school.timezone if site else DEFAULT_ZONE)
    print(f"{result.printed} slip(s) written to {result.path} (0600)"
          + (f"; {result.stale} dropped (password already changed)" if result.stale else ""))
    print("print it, then delete it: it holds passwords")
    return 0 if result.printed else 1


def _list(args: argparse.Namespace) -> int:
    from appliance.imports.users import listing

    rows = listing(_conn(args), args.profile, args.division, args.only)
    for r in rows:
        print(f"{r['login'] or '-':22} {r['profile']:11} {r['state']:11} {r['source']:5} "
              f"{(r['classes'] or '-'):8} {r['last_name']} {r['first_name']}")
    print(f"{len(rows)} account(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    from appliance.imports.users import show

    r = show(_conn(args), args.login)
    for name in ("login", "last_name", "first_name", "profile", "source", "state", "join_key",
                 "local_id", "uai", "birth_date", "email", "classes", "groups", "must_change",
                 "charter_version", "deactivated_at", "locked_until"):
        print(f"{name:16} {r[name] if r[name] is not None else '-'}")
    return 0


def _add(args: argparse.Namespace) -> int:
    from appliance.imports.users import add_local

    settings = _settings(args)
    new = add_local(_conn(args), args.state, args.state / "journal", time.time(),
                    last_name=args.nom, first_name=args.prenom, profile=args.profil,
                    known_profiles=settings.known_profiles, division=args.classe,
                    uai=settings.csv_uai, email=args.email, actor=_actor())
    print(f"login: {new.login}\ninitial password: {new.password}  (to change at first login)")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from appliance.imports.users import reset_password

    new = reset_password(_conn(args), args.state, args.state / "journal", time.time(),
                         args.login, _actor())
    print(f"login: {new.login}\nnew initial password: {new.password}  (to change at next "
          "login; also on the next sheet of its class)")
    return 0


def _common(p: argparse.ArgumentParser, site: bool = False) -> None:
    p.add_argument("--state", type=Path, default=paths.Default("state"),
                   help="state folder (default %(default)s, or the lab's with carine --lab)")
    if site:
        p.add_argument("--site", type=Path, help="site file (default /etc/carine/site.yaml "
                       "when present, or the lab's with carine --lab)")


def register(sub: Any) -> None:
    """Add the ``users`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("users", help="directory: imports and accounts")
    cmds = p.add_subparsers(dest="users_command", required=True)
    c = cmds.add_parser("import", help="import AAF XML or CSV files (analyse, prepare, apply)")
    c.add_argument("files", type=Path, nargs="+")
    c.add_argument("--dry-run", action="store_true", help="report per record, change nothing")
    c.add_argument("--uai", help="import this structure only (default: the site's school)")
    way = c.add_mutually_exclusive_group()
    way.add_argument("--full", action="store_true", help="the files are full exports")
    way.add_argument("--delta", action="store_true", help="the files are deltas")
    c.add_argument("--force", action="store_true", help="deactivate beyond the safety share")
    c.add_argument("--max-mb", type=int, default=64, help="refuse larger files (64)")
    c.add_argument("--encoding", help="CSV encoding, when the detection is wrong")
    c.add_argument("--progress", action="store_true",
                   help="print 'progress DONE/TOTAL' lines while applying")
    c.add_argument("--actor", help="who asked, for the journal (the console passes its user)")
    _common(c, site=True)
    c.set_defaults(func=_import)
    c = cmds.add_parser("purge", help="delete people deactivated for more than 3 months")
    c.add_argument("--rollover", action="store_true",
                   help="school-year rollover: also hand-made accounts (D-DIR-3)")
    c.add_argument("--dry-run", action="store_true")
    _common(c)
    c.set_defaults(func=_purge)
    c = cmds.add_parser("sheet", help="print-ready HTML sheet of initial passwords")
    c.add_argument("--class", dest="division", help="class code")
    c.add_argument("--all", action="store_true", help="every pending slip")
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--portal", help="address printed on the slips")
    c.add_argument("--keep", action="store_true", help="keep the slips pending (reprint)")
    _common(c, site=True)
    c.set_defaults(func=_sheet)
    c = cmds.add_parser("list", help="accounts")
    c.add_argument("--profile")
    c.add_argument("--class", dest="division")
    c.add_argument("--only", choices=("active", "deactivated"))
    _common(c)
    c.set_defaults(func=_list)
    c = cmds.add_parser("show", help="one account")
    c.add_argument("login")
    _common(c)
    c.set_defaults(func=_show)
    c = cmds.add_parser("add", help="a local account (substitute teacher, speaker...)")
    for name in ("nom", "prenom", "profil"):
        c.add_argument(f"--{name}", required=True)
    c.add_argument("--classe")
    c.add_argument("--email")
    c.add_argument("--uai")
    _common(c, site=True)
    c.set_defaults(func=_add)
    c = cmds.add_parser("passwd", help="new initial password (must change at next login)")
    c.add_argument("login")
    _common(c)
    c.set_defaults(func=_passwd)
