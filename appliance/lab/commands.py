"""``carine lab up|down|status|exec``: build, tear down, show and enter the lab.

``up`` is idempotent (an identical healthy lab is left as it is); ``down`` undoes what the
state file records, even after a crash, and nothing else."""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import shutil
import time
from pathlib import Path

from appliance.errors import CarineError
from appliance.lab import build, daemons, netns
from appliance.lab.lock import STATE as STATE
from appliance.lab.lock import locked
from appliance.lab.state import LabState, Proc, alive, rss_mib, start_time, stop_all
from appliance.lab.topology import (
    HOST_LINK,
    LAB_DIR,
    PREFIX,
    lab_layout,
    plan,
)
from appliance.paths import LAB_ENV
from appliance.render.units import pid_file
from appliance.site import Purpose, load_site

log = logging.getLogger("carine.lab")
_locked = locked  # the name the lab tests and benches take the lock by


class Stopwatch:
    """Logs how long each stage of ``up`` took (shown with ``carine -v``)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        log.info("%-40s %5.2fs", what, now - self.last)
        self.last = now


def _require_root() -> None:
    if os.geteuid() != 0:
        raise CarineError("the lab needs root (network namespaces)", "run it as root")


def up(site_path: Path) -> LabState:
    """Bring the lab up for ``site_path``; return its state."""
    _require_root()
    daemons.require_tools()
    site = load_site(site_path)
    digest = hashlib.sha256(site_path.read_bytes()).hexdigest()
    state = LabState.load(STATE)
    if state.ready and state.site_sha256 == digest and healthy(state):
        print(f"lab already up for {state.site}")
        return state
    if state.namespaces or state.procs or state.host_links:
        down(quiet=True)
    lab = plan(site)
    LAB_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
    state = LabState(STATE, site=str(site_path), site_sha256=digest)
    state.save()
    clock = Stopwatch()
    build.render_and_check(lab)
    clock.lap("rendered and checked the configuration")
    ca_dir = build.certificates()
    build.build_network(state, lab)
    clock.lap("namespaces, links, addresses, nftables")
    daemons.start_wan(state, lab, ca_dir)
    clock.lap("simulated internet serving")
    daemons.start_appliance(state, lab)
    clock.lap("appliance dnsmasq and Squid serving")
    daemons.start_clients(state, lab)
    clock.lap("clients leased")
    # The 802.1X corner (appliance/lab/wifi.py) names its own nodes, when it is up.
    nodes = {**lab.nodes(), **state.info.get("wifi_nodes", {})}
    # The node the usage text shows: a pupil's PC, filtered, where the lab is most telling.
    pupils = [c.node for c in lab.clients if c.zone.purpose == Purpose.PEDAGOGICAL]
    example = (pupils or [c.node for c in lab.clients] or ["appliance"])[0]
    state.info.update({"ca": str(ca_dir / "ca.pem"), "nodes": nodes, "example": example})
    state.ready = True
    state.save()
    return state


def healthy(state: LabState) -> bool:
    present = netns.namespaces()
    return all(ns in present for ns in state.namespaces) and all(alive(p) for p in state.procs)


def down(quiet: bool = False) -> None:
    """Remove what the state file records: processes (by PID), links, namespaces, files."""
    _require_root()
    state = LabState.load(STATE)
    stop_all(state.procs)
    # What runs in our namespaces without a record: a daemon started just before a crash, its
    # children, a shell left by `lab exec`. A deleted namespace would not stop them.
    present = netns.namespaces()
    stop_all([Proc("straggler", ns, pid, started, []) for ns in state.namespaces
              if ns.startswith(PREFIX) and ns in present for pid in netns.pids(ns)
              if (started := start_time(pid)) is not None])
    for link in state.host_links:
        if link.startswith(PREFIX) and netns.link_exists(link):
            netns.del_link(link)
    for ns in reversed(state.namespaces):
        if ns.startswith(PREFIX):
            netns.del_ns(ns)
    for folder in sorted(state.netns_dirs, reverse=True):  # /etc/netns/carine-* first
        if Path(folder).name.startswith(PREFIX):
            shutil.rmtree(folder, ignore_errors=True)
        elif folder == "/etc/netns" and Path(folder).is_dir() and not any(Path(folder).iterdir()):
            Path(folder).rmdir()
    for extra in (LAB_DIR, LAB_DIR.with_name(LAB_DIR.name + ".prev")):
        shutil.rmtree(extra, ignore_errors=True)
    for tree in (Path(str(LAB_DIR / "tree") + ".prev"), Path(str(LAB_DIR / "tree") + ".new")):
        shutil.rmtree(tree, ignore_errors=True)
    if not quiet:
        print("lab down: processes stopped, namespaces and links removed")


def status() -> int:
    state = LabState.load(STATE)
    if not state.namespaces:
        print("lab is down")
        return 3
    print(f"lab for {state.site}: {'ready' if state.ready else 'NOT READY'}")
    present = netns.namespaces()
    nodes: dict[str, str] = state.info.get("nodes", {})
    for node, ns in nodes.items():
        mark = "" if ns in present else "  (namespace missing)"
        print(f"\n{node} [{ns}]{mark}")
        if ns in present:
            for dev, cidr in netns.addresses(ns):
                print(f"    {dev:16} {cidr}")
        for proc in (p for p in state.procs if p.node == node):
            running = alive(proc)
            # A declared unit runs under the lab's supervisor: show the daemon itself.
            main = _main_pid(proc) if running else None
            pid = proc.pid if main is None else main
            memory = f"{rss_mib(pid):6.1f} MiB" if running else ""
            held = "" if main is None else f" (supervisor {proc.pid})"
            print(f"    {proc.name:10} pid {pid:<8} {'running' if running else 'DEAD':8}"
                  f" {memory}{held}")
    host = state.info.get("host")
    if host:
        print(f"\nhost link {HOST_LINK}: {host['address']} -> appliance {host['appliance']} "
              f"(zone {host['zone']})")
    return 0 if healthy(state) else 1


def _main_pid(proc: Proc) -> int | None:
    """The main PID of a supervised unit (what its supervisor recorded), if it runs."""
    if proc.node != "appliance" or "appliance.lab.supervise" not in proc.argv:
        return None
    try:
        pid = int(pid_file(lab_layout().run, proc.name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if start_time(pid) is not None else None


def usage(state: LabState) -> str:
    nodes = ", ".join(state.info.get("nodes", {}))
    host = state.info.get("host")
    node = state.info.get("example", "pedago-1")
    lines = [
        f"CARINE lab is up for {state.site}.",
        f"  nodes: {nodes}",
        f"  enter a node:  carine lab exec {node} -- bash",
        f"  try:           carine lab exec {node} -- curl -s http://www.example.org/",
        f"                carine lab exec {node} -- curl -s --cacert {state.info.get('ca')} "
        "https://www.education.gouv.fr/",
        "  proxy log:     /run/carine-lab/log/squid/access.log",
        "  state & logs:  /run/carine-lab/",
    ]
    if host:
        lines.append(f"  from this host: ping {host['appliance']} (managing zone {host['zone']})")
    lines.append("  tear down:     carine lab down")
    return "\n".join(lines)


def execute(node: str, cmd: list[str]) -> int:
    state = LabState.load(STATE)
    nodes: dict[str, str] = state.info.get("nodes", {})
    ns = nodes.get(node, node if node in state.namespaces else "")
    if not ns:
        raise CarineError(f"no lab node {node!r}", f"nodes: {', '.join(nodes) or '(lab is down)'}")
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise CarineError("nothing to run", "carine lab exec NODE -- COMMAND [ARGS...]")
    # `carine` commands run inside a node act on the lab (appliance.paths), as `carine --lab`.
    os.environ[LAB_ENV] = "1"
    os.execvp("ip", ["ip", "netns", "exec", ns, *cmd])  # noqa: S606 - replaces us, argv list


def lab_command(args: argparse.Namespace) -> int:
    if args.lab_command == "up":
        with _locked():
            state = up(args.site)
        print(usage(state))
        return 0
    if args.lab_command == "down":
        with _locked():
            down()
        return 0
    if args.lab_command == "status":
        return status()
    return execute(args.node, list(args.cmd))
