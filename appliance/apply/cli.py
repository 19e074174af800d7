"""The apply commands of ``carine``: ``diff``, ``apply``, ``generations``, ``ready``, ``prepare``.
The store, the clock and the target are parameters so that tests inject them."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from appliance.apply.diff import plan, report
from appliance.apply.generations import STORE, Generation, Store, with_site
from appliance.apply.ready import load_units, wait_ready
from appliance.apply.runner import show
from appliance.apply.steps import Target, apply_generation, stage, summary
from appliance.errors import CarineError
from appliance.render import Layout
from appliance.render.pipeline import render_files
from appliance.site import load_site


def system_files(site_path: Path) -> dict[PurePosixPath, str]:
    """The tree ``site_path`` renders for this machine (installed paths), in memory."""
    return render_files(load_site(site_path), Layout.system())


def _diff(args: argparse.Namespace) -> int:
    store = Store(args.store)
    current = store.current()
    old = current.installed() if current is not None else {}
    p = plan(old, with_site(system_files(args.site), args.site.read_text(encoding="utf-8")))
    if current is None:
        print("no generation is installed yet: everything is new")
    else:
        print(f"against generation {current.number} ({current.local_time()})")
    print(report(p, show_diff=not args.stat), end="")
    return 0


def _generations(args: argparse.Namespace) -> int:
    store = Store(args.store)
    current = store.current()
    gens = store.all()
    if not gens:
        print(f"no generation in {store.root}: nothing was applied yet")
        return 0
    for g in gens:
        mark = "*" if current is not None and g.number == current.number else " "
        print(f"{mark} {g.number:4d}  {g.local_time()}  {g.state:8} {g.uai}  "
              f"{len(g.files)} files  site {g.site_sha256[:12]}")
    return 0


def _target(args: argparse.Namespace) -> Target:
    if args.inventory is None:
        return Target.local()
    return Target(str(args.inventory.absolute()), args.limit, remote=True)


def _apply(args: argparse.Namespace) -> int:
    store = Store(args.store)
    started = time.monotonic()
    current = store.current()
    before: Generation | None
    if args.rollback:
        previous = store.previous()
        if previous is None or current is None:
            raise CarineError("there is no previous generation to go back to",
                              "list them: carine generations")
        print(f"rolling back: generation {current.number} -> {previous.number}")
        gen, before = previous, current
    else:
        if args.site is None:
            raise CarineError("which site? give SITE, or --rollback",
                              "carine apply /etc/carine/site.yaml")
        # --check stages into a throwaway store: nothing is kept of a dry run.
        staging = Store(Path(args.store.parent / ".carine-check")) if args.check else store
        if args.check:
            import shutil

            shutil.rmtree(staging.root, ignore_errors=True)
        gen, p = stage(staging, args.site, datetime.now(UTC))
        print(report(p, show_diff=False), end="")
        reused = current is not None and gen.number == current.number and not args.check
        before = store.previous() if reused else current
        print(f"generation {gen.number} {'(installed: no new check)' if reused else 'checked'}"
              f" in {time.monotonic() - started:.1f} s", flush=True)
    outcome = apply_generation(store, gen, before, _target(args), check=args.check,
                               packages=not args.no_packages, on_event=show)
    print(summary(outcome))
    took = time.monotonic() - started
    if not outcome.success:
        print(f"apply failed after {took:.0f} s: the previous generation stays current "
              f"({before.number if before else 'none'})")
        return 1
    if args.rollback and before is not None:
        store.mark(before, "rolled-back")
    verb = "checked" if args.check else "applied"
    print(f"generation {gen.number} {verb} in {took:.1f} s, changed={outcome.changed}")
    if not args.check:
        store.prune()
    return 0


def _ready(args: argparse.Namespace) -> int:
    verdicts = wait_ready(load_units(args.units), args.wait)
    for v in verdicts:
        print(f"{'ok  ' if v.ok else 'FAIL'} {v.unit:36} {v.detail}")
    bad = [v for v in verdicts if not v.ok]
    print("ready" if not bad else f"not ready: {len(bad)} unit(s) failing")
    return 1 if bad else 0


def _prepare(args: argparse.Namespace) -> int:
    from appliance.apply.prepare import prepare

    made = prepare(args.state)
    print("made: " + (", ".join(made) if made else "nothing (all present)"))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("diff", help="what applying a site would change on this machine")
    p.add_argument("site", type=Path, nargs="?", default=Path("/etc/carine/site.yaml"))
    p.add_argument("--stat", action="store_true", help="files and units only, no diff")
    p.add_argument("--store", type=Path, default=STORE, help="the generations folder")
    p.set_defaults(func=_diff)

    p = sub.add_parser("generations", help="the installed generations (* = current)")
    p.add_argument("--store", type=Path, default=STORE, help="the generations folder")
    p.set_defaults(func=_generations)

    p = sub.add_parser("apply", help="install a site on this machine (or an inventory's hosts)")
    p.add_argument("site", type=Path, nargs="?", default=None)
    p.add_argument("--check", action="store_true", help="show what would change, change nothing")
    p.add_argument("--rollback", action="store_true", help="go back to the previous generation")
    p.add_argument("--inventory", type=Path, help="apply to the hosts of this Ansible inventory "
                   "(SSH with pinned host keys) instead of this machine")
    p.add_argument("--limit", help="only these hosts or groups of the inventory")
    p.add_argument("--no-packages", action="store_true", help="do not install Debian packages")
    p.add_argument("--store", type=Path, default=STORE, help="the generations folder")
    p.set_defaults(func=_apply)

    p = sub.add_parser("ready", help="every carine-* unit active and healthy (exit code)")
    p.add_argument("--units", type=Path, default=Path("/etc/carine/units.json"))
    p.add_argument("--wait", type=float, default=0.0, help="retry for up to this many seconds")
    p.set_defaults(func=_ready)

    p = sub.add_parser("prepare", help="make the state the installed tree refers to (secrets)")
    p.add_argument("--state", type=Path, default=Path("/var/lib/carine"))
    p.set_defaults(func=_prepare)
