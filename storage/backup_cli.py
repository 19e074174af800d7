"""`carine backup init|run|list|verify|restore`: the borg backups of the site's repository.
Run by the daily and monthly timers (`run`, `run --full`); restore puts an archive, or some
paths of it, under a new root to compare or copy back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.clock import SYSTEM
from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.site import load_site
from storage.backup import Backup


def backup_of(args: argparse.Namespace) -> tuple[Backup, Any]:
    """The site's repository and what it backs up: this machine's folders, the lab's
    (``--lab``), or those of a rendered tree (``--root``)."""
    site = load_site(args.site)
    conf = site.storage.backup
    if conf.repository is None:
        raise CarineError("the site names no backup repository",
                          "set storage.backup.repository (a folder or ssh://user@host/path)")
    if args.root:
        layout = Layout.in_tree(args.root)
        return Backup(conf.repository, layout.state, layout.etc("carine"), layout.log), conf
    where = paths.of(args)
    return Backup(conf.repository, where.state, where.etc("carine"), where.log), conf


def _init(args: argparse.Namespace) -> int:
    backup, _ = backup_of(args)
    backup.init()
    print(f"repository {backup.repository} ready; passphrase {backup.passphrase_file} and key "
          f"{backup.home / 'repository.key'} (0600): keep a copy away from the appliance")
    return 0


def _run(args: argparse.Namespace) -> int:
    backup, conf = backup_of(args)
    name = backup.create(SYSTEM.now(), full=args.full)
    backup.prune(conf.keep_daily, conf.keep_monthly)
    print(f"archive {name}")
    return 0


def _list(args: argparse.Namespace) -> int:
    backup, _ = backup_of(args)
    for name in backup.archives():
        print(name)
    return 0


def _verify(args: argparse.Namespace) -> int:
    backup, _ = backup_of(args)
    print(backup.verify(data=args.data))
    return 0


def _restore(args: argparse.Namespace) -> int:
    backup, _ = backup_of(args)
    backup.restore(args.archive, args.to, [Path(p) for p in args.path])
    print(f"{args.archive} restored under {args.to}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("backup", help="borg backups: run, list, verify, restore")
    p.add_argument("--site", type=Path, default=paths.Default("site"),
                   help="site file (default: %(default)s)")
    p.add_argument("--root", type=Path, help="a rendered tree instead of this machine")
    cmds = p.add_subparsers(dest="backup_cmd", required=True)
    cmds.add_parser("init", help="create the encrypted repository").set_defaults(func=_init)
    r = cmds.add_parser("run", help="one archive now (daily; --full: the monthly)")
    r.add_argument("--full", action="store_true", help="read every file again (monthly)")
    r.set_defaults(func=_run)
    cmds.add_parser("list", help="the archives").set_defaults(func=_list)
    v = cmds.add_parser("verify", help="borg check of the repository")
    v.add_argument("--data", action="store_true", help="also every chunk's data (slow)")
    v.set_defaults(func=_verify)
    x = cmds.add_parser("restore", help="extract an archive under a new root")
    x.add_argument("archive")
    x.add_argument("--to", type=Path, required=True, help="the new root")
    x.add_argument("--path", action="append", default=[],
                   help="only this path as on the appliance (repeatable)")
    x.set_defaults(func=_restore)
