"""Build the lab's network: render and check the tree, make the CA, namespaces, links, bridges,
addresses, the appliance's sysctls and ruleset. Every object is recorded before it is made."""

from __future__ import annotations

import shutil
from pathlib import Path

from appliance.errors import CarineError
from appliance.lab import netns, runner
from appliance.lab.state import LabState
from appliance.lab.topology import (
    APPLIANCE_NS,
    DNS_ADDRESS,
    HOST_LINK,
    LAB_DIR,
    LISTS,
    NTP_ADDRESS,
    UPLINK_ADDRESS,
    WAN_GATEWAY,
    WAN_NS,
    WAN_SIDE_LINK,
    WEB_ADDRESS,
    Plan,
)
from appliance.render import check_tree, render_tree
from appliance.run import run
from appliance.tls import issue, key_pem, pem, write_private, write_self_signed


def render_and_check(lab: Plan) -> None:
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
    if lab.site.filtering.enabled:
        provision_filtering(lab)


def provision_filtering(lab: Plan) -> None:
    """A state store the proxy's helpers may write (they run as Squid's user), as the image's
    first boot prepares it; the lists come later, by a real update from the lab's mirror."""
    layout = lab.layout
    # The store is shared by the helpers (user proxy) and the block page: group proxy, setgid.
    shutil.chown(layout.state, group="proxy")
    layout.state.chmod(0o2770)
    # The checks ran first and may have created the store (the RADIUS state follows the
    # directory's settings) before the folder was setgid: give it the folder's group.
    for store in layout.state.glob("state.sqlite*"):
        shutil.chown(store, group="proxy")
    (layout.state / "filtering").mkdir(exist_ok=True)
    shutil.chown(layout.state / "filtering", group="proxy")
    # Each helper process writes its counters here for the exporter.
    (layout.run / "filtering").mkdir(exist_ok=True)
    shutil.chown(layout.run / "filtering", user="proxy", group="proxy")
    if not LISTS.exists():
        raise CarineError(f"the lab's filtering lists are missing: {LISTS}",
                          "set CARINE_LAB_LISTS to a UT1 archive")
    helper = layout.programs / "carine-filter-helper"
    probe = run(["runuser", "-u", "proxy", "--", str(helper), "--help"], check=False)
    if not probe.ok:
        raise CarineError(f"Squid's user cannot run {helper}: {probe.output()[-300:]}",
                          "the checkout and its .venv must be readable by others (not under "
                          "/root), with Debian's python3 (make install does that)")


def certificates() -> Path:
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


def build_network(state: LabState, lab: Plan) -> None:
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
    netns.default_route(APPLIANCE_NS, str(WAN_GATEWAY.ip))
    # Zones: one bridge per zone, named as the site names the zone's interface.
    for zone in site.zones:
        ifname = site.zone_ifname(zone)
        netns.bridge(APPLIANCE_NS, ifname)
        netns.address(APPLIANCE_NS, ifname, str(zone.gateway_interface()))
    for client in lab.clients:
        _netns_dir(state, client.ns, str(client.zone.gateway()))
        netns.veth(client.port, APPLIANCE_NS, "eth0", client.ns)
        netns.enslave(APPLIANCE_NS, client.port, client.bridge)
        netns.link_up(client.ns, "eth0")
    _host_link(state, lab)
    _kernel_settings(lab)
    # The declared oneshot, as the appliance loads its ruleset before any daemon.
    runner.run_oneshot(lab, runner.unit_named(lab, "nftables"))


def _host_link(state: LabState, lab: Plan) -> None:
    zone, host = lab.host_zone, lab.host_address()
    if zone is None or host is None:
        return
    state.intend("host_links", HOST_LINK)
    netns.veth(HOST_LINK, None, "host0", APPLIANCE_NS)
    netns.enslave(APPLIANCE_NS, "host0", lab.site.zone_ifname(zone))
    # A /32 with a peer: the host gains one route, to the appliance's managing address, only.
    netns.peer_address(None, HOST_LINK, str(host), str(zone.gateway()))
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
