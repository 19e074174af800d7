"""The ``carine`` command: validate, render and check a site; run the lab.

Every CarineError becomes one message and a hint on stderr; exit 2 means a bad site file."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from appliance.apply.cli import register as register_apply
from appliance.errors import CarineError, SiteInvalid
from appliance.paths import Paths, from_environment, resolve_defaults
from appliance.render import Layout, check_tree, render_tree
from appliance.site import load_site
from appliance.site.reference import reference_markdown
from appliance.site.wifi_checks import wifi_warnings


def _validate(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    zones = ", ".join(f"{z.name} (VLAN {z.vlan}, {z.subnet})" for z in site.zones)
    print(f"{args.site}: valid — {site.school.name} ({site.school.uai}); zones: {zones}")
    for warning in wifi_warnings(site):
        print(f"  warning: {warning}")
    return 0


def _render(args: argparse.Namespace) -> int:
    site = load_site(args.site)
    layout = Layout.system() if args.for_system else None
    files = render_tree(site, args.root, layout)
    for path in sorted(files):
        print(f"  {path}")
    print(f"rendered {len(files)} files into {args.root.absolute()}")
    return 0


def _check(args: argparse.Namespace) -> int:
    results = check_tree(args.root, site=None if args.site is None else load_site(args.site))
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.service:10} {r.command}")
        if r.note:
            print(f"       note: {r.note}")
        if not r.ok or args.verbose:
            for line in r.output.splitlines():
                print(f"       {line}")
    failed = [r for r in results if not r.ok]
    print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def _reference(args: argparse.Namespace) -> int:
    print(reference_markdown(), end="")
    return 0


def _lab(args: argparse.Namespace) -> int:
    from appliance.lab.commands import lab_command  # the lab needs root; load it only here

    return lab_command(args)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="carine", description="CARINE school appliance")
    top.add_argument("-v", "--verbose", action="store_true", help="say more")
    top.add_argument("--lab", action="store_true",
                     help="act on the running lab (/run/carine-lab: its site, rendered files "
                          "and state) instead of the installed system; CARINE_LAB=1 does too")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a site file and report every problem")
    p.add_argument("site", type=Path)
    p.set_defaults(func=_validate)

    p = sub.add_parser("render", help="render a site into a configuration tree")
    p.add_argument("site", type=Path)
    p.add_argument("--root", type=Path, required=True, help="directory to render into")
    p.add_argument("--for-system", action="store_true",
                   help="refer to installed paths (/etc, /var/lib/carine) instead of the tree")
    p.set_defaults(func=_render)

    p = sub.add_parser("check", help="let the real tools check a rendered tree")
    p.add_argument("--root", type=Path, required=True)
    p.add_argument("--site", type=Path,
                   help="the site a --for-system tree was rendered from (checked via its twin)")
    p.set_defaults(func=_check)

    p = sub.add_parser("reference", help="print the site file reference (Markdown)")
    p.set_defaults(func=_reference)

    p = sub.add_parser("lab", help="the whole school in network namespaces")
    lab = p.add_subparsers(dest="lab_command", required=True)
    up = lab.add_parser("up", help="build the lab (idempotent)")
    up.add_argument("site", type=Path, nargs="?", default=Path("examples/site.yaml"))
    lab.add_parser("down", help="remove everything the lab created")
    lab.add_parser("status", help="nodes, addresses, daemons")
    ex = lab.add_parser("exec", help="run a command in a lab node")
    ex.add_argument("node")
    ex.add_argument("cmd", nargs=argparse.REMAINDER)
    p.set_defaults(func=_lab)
    register_apply(sub)
    for plugin in sorted(entry_points(group="carine.commands"), key=lambda ep: ep.name):
        # Service packages add their own commands (`carine filter ...`); the core imports none.
        register: Callable[[Any], None] = plugin.load()
        register(sub)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    if args.verbose:
        logging.getLogger("carine").setLevel(logging.INFO)
    try:
        resolve_defaults(args, Paths.of_lab() if args.lab else from_environment())
        code: int = args.func(args)
    except SiteInvalid as exc:
        print(exc.report(), file=sys.stderr)
        print("nothing was rendered: fix the problems above", file=sys.stderr)
        return exc.exit_code
    except CarineError as exc:
        print(f"carine: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # output piped into `head`: not an error of ours
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
