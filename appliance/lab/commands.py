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
from appliance.lab import daemons, netns
from appliance.lab.state import LabState, alive, rss_mib, stop_all
from appliance.lab.topology import (
    APPLIANCE_NS,
    DNS_ADDRESS,
    HOST_LINK,
    LAB_DIR,
    NTP_ADDRESS,
    PREFIX,
    UPLINK_ADDRESS,
    WAN_GATEWAY,
    WAN_NS,
    WAN_SIDE_LINK,
    WEB_ADDRESS,
    Plan,
    plan,
)
from appliance.render import check_tree, render_tree
from appliance.site import load_site
from appliance.tls import issue, key_pem, pem, write_private, write_self_signed

STATE = LAB_DIR / "state.json"
log = logging.getLogger("carine.lab")


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
    _render(lab)
    clock.lap("rendered and checked the configuration")
    ca_dir = _certificates(lab)
    _build_network(state, lab)
    clock.lap("namespaces, links, addresses, nftables")
    daemons.start_wan(state, lab, ca_dir)
    clock.lap("simulated internet serving")
    daemons.start_appliance(state, lab)
    clock.lap("appliance dnsmasq and Squid serving")
    daemons.start_clients(state, lab)
    clock.lap("clients leased")
    state.info.update({"ca": str(ca_dir / "ca.pem"), "nodes": lab.nodes()})
    state.ready = True
    state.save()
    return state


def _render(lab: Plan) -> None:
    layout = lab.layout
    render_tree(lab.site, layout.config, layout)
    failed = [r for r in check_tree(layout.config) if not r.ok]
    if failed:
        detail = "; ".join(f"{r.command}: {r.output}" for r in failed)
        raise CarineError(f"the rendered lab configuration was rejected: {detail}")
    for folder in (layout.state, layout.run, layout.log, layout.log / "squid",
                   layout.state / "chrony"):
        folder.mkdir(parents=True, exist_ok=True)
    # Squid and chronyd drop to their own users before they write logs and drift.
    shutil.chown(layout.log / "squid", user="proxy", group="proxy")
    shutil.chown(layout.state / "chrony", user="_chrony", group="_chrony")
    (layout.run / "chrony").mkdir(mode=0o750, exist_ok=True)
    shutil.chown(layout.run / "chrony", user="_chrony", group="_chrony")
    write_self_signed(layout.state / "tls/proxy-peek.pem", "CARINE proxy (peek only)")


def _certificates(lab: Plan) -> Path:
    ca_dir = LAB_DIR / "wan" / "ca"
    cert, key = issue("CARINE lab CA", [], is_ca=True, days=30)
    write_private(ca_dir / "ca.key", key_pem(key))
    (ca_dir / "ca.pem").write_bytes(pem(cert))
    return ca_dir


def _netns_dir(state: LabState, ns: str, resolver: str) -> None:
    top = Path("/etc/netns")
    if not top.exists():
        state.intend("netns_dirs", str(top))  # ours to remove again, once empty
    folder = top / ns
    state.intend("netns_dirs", str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "resolv.conf").write_text(f"nameserver {resolver}\n", encoding="utf-8")


def _build_network(state: LabState, lab: Plan) -> None:
    site = lab.site
    for ns in (WAN_NS, APPLIANCE_NS, *(c.ns for c in lab.clients)):
        state.intend("namespaces", ns)
        netns.add_ns(ns)
    _netns_dir(state, WAN_NS, str(DNS_ADDRESS))
    _netns_dir(state, APPLIANCE_NS, "127.0.0.1")
    # Uplink: appliance <-> simulated internet.
    up_if = site.uplink.interface
    netns.veth(up_if, APPLIANCE_NS, WAN_SIDE_LINK, WAN_NS)
    netns.address(WAN_NS, WAN_SIDE_LINK, str(WAN_GATEWAY))
    for addr in (WEB_ADDRESS, DNS_ADDRESS, NTP_ADDRESS):
        netns.address(WAN_NS, "lo", f"{addr}/32")
    netns.address(APPLIANCE_NS, up_if, str(UPLINK_ADDRESS))
    netns.in_ns(APPLIANCE_NS, ["ip", "route", "replace", "default", "via", str(WAN_GATEWAY.ip)])
    # Zones: one bridge per zone, named as the site names the zone's interface.
    for zone in site.zones:
        ifname = site.zone_ifname(zone)
        netns.bridge(APPLIANCE_NS, ifname)
        netns.address(APPLIANCE_NS, ifname, str(zone.gateway_interface()))
    for client in lab.clients:
        _netns_dir(state, client.ns, str(client.zone.gateway()))
        netns.veth(client.port, APPLIANCE_NS, "eth0", client.ns)
        netns.enslave(APPLIANCE_NS, client.port, client.bridge)
        netns.in_ns(client.ns, ["ip", "link", "set", "eth0", "up"])
    _host_link(state, lab)
    _kernel_settings(lab)
    netns.in_ns(APPLIANCE_NS, ["nft", "-f", str(lab.layout.etc("nftables.conf"))])


def _host_link(state: LabState, lab: Plan) -> None:
    zone, host = lab.host_zone, lab.host_address()
    if zone is None or host is None:
        return
    state.intend("host_links", HOST_LINK)
    netns.veth(HOST_LINK, None, "host0", APPLIANCE_NS)
    netns.enslave(APPLIANCE_NS, "host0", lab.site.zone_ifname(zone))
    # A /32 with a peer: the host gains one route, to the appliance's managing address, only.
    netns.ip("addr", "replace", f"{host}/32", "peer", f"{zone.gateway()}/32", "dev", HOST_LINK)
    netns.ip("link", "set", HOST_LINK, "up")
    state.info["host"] = {"address": str(host), "appliance": str(zone.gateway()),
                          "zone": zone.name}


def _kernel_settings(lab: Plan) -> None:
    """The rendered sysctls, inside the appliance namespace; only per-namespace net.* keys."""
    text = lab.layout.etc("sysctl.d/90-carine.conf").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("net.") and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            netns.in_ns(APPLIANCE_NS, ["sysctl", "-q", "-w", f"{key}={value}"])
    # Bridged frames within a zone must not traverse the routed firewall.
    netns.in_ns(APPLIANCE_NS, ["sh", "-c", "for f in /proc/sys/net/bridge/bridge-nf-call-*; "
                                           "do [ -e $f ] && echo 0 > $f; done; true"])


def healthy(state: LabState) -> bool:
    present = netns.namespaces()
    return all(ns in present for ns in state.namespaces) and all(alive(p) for p in state.procs)


def down(quiet: bool = False) -> None:
    """Remove what the state file records: processes (by PID), links, namespaces, files."""
    _require_root()
    state = LabState.load(STATE)
    stop_all(state.procs)
    for link in state.host_links:
        if link.startswith(PREFIX) and netns.link_exists(link):
            netns.ip("link", "del", link)
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
            addrs = netns.in_ns(ns, ["ip", "-br", "-4", "addr"], check=False).stdout
            for line in addrs.splitlines():
                if not line.startswith("lo "):
                    print(f"    {line}")
        for proc in (p for p in state.procs if p.node == node):
            running = alive(proc)
            memory = f"{rss_mib(proc.pid):6.1f} MiB" if running else ""
            print(f"    {proc.name:10} pid {proc.pid:<8} {'running' if running else 'DEAD':8}"
                  f" {memory}")
    host = state.info.get("host")
    if host:
        print(f"\nhost link {HOST_LINK}: {host['address']} -> appliance {host['appliance']} "
              f"(zone {host['zone']})")
    return 0 if healthy(state) else 1


def usage(state: LabState) -> str:
    nodes = ", ".join(state.info.get("nodes", {}))
    host = state.info.get("host")
    lines = [
        f"CARINE lab is up for {state.site}.",
        f"  nodes: {nodes}",
        "  enter a node:  carine lab exec pedago-1 -- bash",
        "  try:           carine lab exec pedago-1 -- curl -s http://www.example.org/",
        f"                carine lab exec pedago-1 -- curl -s --cacert {state.info.get('ca')} "
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
    os.execvp("ip", ["ip", "netns", "exec", ns, *cmd])  # noqa: S606 - replaces us, argv list


def lab_command(args: argparse.Namespace) -> int:
    if args.lab_command == "up":
        print(usage(up(args.site)))
        return 0
    if args.lab_command == "down":
        down()
        return 0
    if args.lab_command == "status":
        return status()
    return execute(args.node, list(args.cmd))
