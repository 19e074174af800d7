"""``carine fleet targets INVENTORY --out DIR``: the académie's Prometheus target lists from the
Ansible inventory of its schools. Registered through the ``carine.commands`` entry point."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _targets(args: argparse.Namespace) -> int:
    from monitoring.fleet import file_sd, fleet_targets
    from monitoring.fleetwrite import write_targets
    from monitoring.inventory import load_inventory, within

    hosts = within(load_inventory(args.inventory), args.limit)
    targets = fleet_targets(hosts, str(args.inventory))
    files = file_sd(targets)
    done = write_targets(files, args.out)
    for group, content in sorted(files.items()):
        state = "unchanged" if f"{group}.json" in done.unchanged else "written"
        print(f"  {args.out / (group + '.json')}: {len(content)} target(s), {state}")
    for name in done.removed:
        print(f"  {args.out / name}: removed (no such group any more)")
    print(f"{len(targets)} school(s) in {len(files)} file(s)")
    return 0


def register(sub: Any) -> None:
    """Add the ``fleet`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("fleet", help="the académie's fleet of schools")
    cmds = p.add_subparsers(dest="fleet_command", required=True)
    t = cmds.add_parser("targets", help="Prometheus file_sd target lists from an Ansible "
                        "inventory (YAML or INI), one JSON file per group")
    t.add_argument("inventory", type=Path, help="inventory file (.yml/.yaml: YAML, else INI)")
    t.add_argument("--out", type=Path, required=True, help="file_sd folder to write into")
    t.add_argument("--limit", action="append", default=[], metavar="GROUP",
                   help="only the hosts of this group (and its children); repeatable")
    t.set_defaults(func=_targets)
