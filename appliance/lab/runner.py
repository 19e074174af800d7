"""The lab's runner of the declared units: the same argv, environment and restart policy as
the systemd units, inside the appliance's namespace and without systemd.

What the lab adds is listed in ``lab_args`` (never setting the host's clock, the list mirror,
a faster journal); it runs every unit as root, as it creates no accounts on the host."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from appliance.errors import CarineError
from appliance.lab import netns
from appliance.lab.state import LabState, Proc
from appliance.lab.topology import (
    APPLIANCE_NS,
    CLAMD_SOCKET,
    LAB_DIR,
    LIST_MIRROR,
    LIST_PATH,
    LISTS,
    Plan,
)
from appliance.render.service import load_services
from appliance.render.units import Declared, Timer, Unit, all_units, pid_file
from appliance.run import spawn


def declared(plan: Plan) -> list[Declared]:
    """What the services declare for the lab's site, with the lab's paths."""
    return all_units(load_services(), plan.site, plan.layout)


def unit_named(plan: Plan, name: str) -> Unit:
    for u in declared(plan):
        if isinstance(u, Unit) and u.name == name:
            return u
    raise CarineError(f"lab: no service declares the unit {name!r} for this site")


def lab_args(unit: Unit) -> tuple[str, ...]:
    """Arguments the lab appends (options given twice: the last one counts)."""
    mirror = f"http://{LIST_MIRROR}/{LIST_PATH}"
    return {
        "chronyd": ("-x",),  # serve time, never touch this machine's clock
        "journald": ("--interval", "1"),
        "lists-update": ("--source", f"{mirror}/{LISTS.name}", "--checksum-url",
                         f"{mirror}/MD5SUM.LST"),
        "storage": ("--clamd-socket", str(CLAMD_SOCKET)),  # the lab's clamd (daemons.py)
    }.get(unit.name, ())


def boot_order(units: Sequence[Declared]) -> list[Unit]:
    """What starts at boot, dependencies first: every daemon, the oneshots not started by a
    timer, and the timed oneshots a daemon wants (as systemd pulls them in)."""
    by_name = {u.name: u for u in units if isinstance(u, Unit)}
    timed = {t.unit for t in units if isinstance(t, Timer)}
    wanted = {w for u in by_name.values() for w in u.wants}
    boot = [u for u in by_name.values() if u.name not in timed or u.name in wanted]
    order: list[Unit] = []
    visiting: set[str] = set()

    def visit(u: Unit) -> None:
        if u in order:
            return
        if u.name in visiting:
            raise CarineError(f"units order themselves in a circle through {u.name}")
        visiting.add(u.name)
        for name in u.after:
            dep = by_name.get(name)
            if dep is not None and dep in boot:
                visit(dep)
        order.append(u)

    for u in boot:
        visit(u)
    return order


def prepare(unit: Unit) -> None:
    """What tmpfiles.d does on the appliance: the unit's state folders and files exist."""
    for folder in (*unit.state_dirs, *unit.shared_dirs):
        folder.mkdir(parents=True, exist_ok=True)
    for path in unit.state_files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=True)


def run_oneshot(plan: Plan, unit: Unit, extra: Sequence[str] = ()) -> None:
    prepare(unit)
    netns.in_ns(APPLIANCE_NS, [*unit.argv, *lab_args(unit), *extra], timeout=300)


def start_daemon(state: LabState, plan: Plan, unit: Unit, extra: Sequence[str] = ()) -> Proc:
    """Start ``unit`` under the lab's supervisor and wait until its health check passes."""
    prepare(unit)
    if not Path(unit.argv[0]).exists() and "/" in unit.argv[0]:
        raise CarineError(f"the site needs {unit.name} but {unit.argv[0]} is missing",
                          "make install")
    argv = [sys.executable, "-m", "appliance.lab.supervise", "--ns", APPLIANCE_NS,
            "--pid-file", str(pid_file(plan.layout.run, unit.name)), "--restart", unit.restart,
            "--delay", str(unit.restart_delay),
            *(f"--env={k}={v}" for k, v in unit.environment),
            "--", *unit.argv, *lab_args(unit), *extra]
    pid = spawn(argv, logfile=LAB_DIR / "log" / f"appliance-{unit.name}.log")
    proc = state.add_proc(unit.name, "appliance", pid, argv)
    wait_healthy(unit)
    return proc


def healthy(unit: Unit) -> bool:
    """Whether ``unit`` passes its health check now (True for a unit that declares none)."""
    health = unit.health
    if health is None:
        return True
    if health.kind == "command":
        return netns.in_ns(APPLIANCE_NS, list(health.argv), check=False).ok
    port = health.port if health.kind == "tcp" else (urlparse(health.url).port or 80)
    proto = "udp" if health.kind == "tcp" and health.udp else "tcp"
    return netns.listening(APPLIANCE_NS, proto, port)


def wait_healthy(unit: Unit) -> None:
    if unit.health is not None:
        netns.wait_for(unit.description, lambda: healthy(unit),
                       timeout=max(unit.health.timeout, 20.0))


def start_units(state: LabState, plan: Plan, skip: Sequence[str] = ()) -> None:
    """Every unit that starts at boot, in order; the ones in ``skip`` are started later."""
    for unit in boot_order(declared(plan)):
        if unit.name in skip:
            continue
        if unit.kind == "oneshot":
            run_oneshot(plan, unit)
        else:
            start_daemon(state, plan, unit)
