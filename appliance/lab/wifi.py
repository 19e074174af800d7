"""The lab's 802.1X corner: an authenticator namespace (``carine-ap-1``) runs the real hostapd
(driver=wired) as the site's first Linux access point, in front of a client namespace
(``carine-dot1x-1``) running wpa_supplicant -D wired with a directory account.

    dot1x-1 eth0 ── port0 [carine-ap-1: br0, nftables port control] up0 ── the client's zone
                          mgmt0 (the AP's management address) ── the management zone
                          └─ RADIUS to the appliance's FreeRADIUS

On Linux, hostapd's wired driver only speaks EAP; the port control a switch would do is a
bridge ruleset that drops the client's frames (but EAPOL) until hostapd_cli's action script
sees AP-STA-CONNECTED, and drops them again on AP-STA-DISCONNECTED or AP-DISABLED. The radio
scheduler runs against the AP's control socket (the lab's stand-in for SSH)."""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from appliance.lab import netns, runner
from appliance.lab.lock import STATE, locked
from appliance.lab.state import LabState, Proc
from appliance.lab.topology import APPLIANCE_NS, LAB_DIR, PREFIX, Plan
from appliance.run import spawn
from appliance.site.wifi import AccessPoint
from appliance.site.zones import Purpose

AP_NS = f"{PREFIX}ap-1"
CLIENT_NS = f"{PREFIX}dot1x-1"
WIFI_DIR = LAB_DIR / "wifi"
CTRL_DIR = WIFI_DIR / "hostapd"
PORT = "port0"
LOGIN = "eleve.lab"  # the lab's pupil (appliance.lab.accounts)
ALWAYS = ["00:00-24:00"]
log = logging.getLogger("carine.lab")

ACTION = """#!/bin/sh
# hostapd_cli action script of the CARINE lab: the port control a switch would do (802.1X).
case "$2" in
  AP-STA-CONNECTED) nft add element bridge carine_port authorised "{ $3 }" ;;
  # (already gone when AP-DISABLED flushed the set first)
  AP-STA-DISCONNECTED) nft delete element bridge carine_port authorised "{ $3 }" 2>/dev/null ;;
  AP-DISABLED) nft flush set bridge carine_port authorised ;;
esac
echo "$(date +%s) $*" >> "$CARINE_PORT_LOG"
exit 0
"""

PORT_RULES = """table bridge carine_port {
  set authorised { type ether_addr; }
  chain forward {
    type filter hook forward priority 0; policy accept;
    iifname "port0" ether type 0x888e accept
    iifname "port0" ether saddr != @authorised counter drop
    oifname "port0" ether daddr != @authorised ether daddr != ff:ff:ff:ff:ff:ff counter drop
  }
}
"""


def lab_ap(plan: Plan) -> AccessPoint | None:
    """The access point the lab stands up: the site's first Linux one (with RADIUS on)."""
    site = plan.site
    if not (site.wifi.enabled and site.radius.enabled):
        return None
    return next((ap for ap in site.wifi.access_points if ap.kind == "linux"), None)


def data_zone(plan: Plan) -> str:
    """Where the 802.1X client lands: its profile's zone (RADIUS profile_zones), else the first
    pedagogical zone. The kernel here has no 802.1Q, so the lab wires that one VLAN."""
    site = plan.site
    zone = site.radius.profile_zones.get("eleve")
    if zone is None:
        zone = next(z.name for z in site.zones if z.purpose is Purpose.PEDAGOGICAL)
    return zone


def site_file(plan: Plan, source: Path) -> Path:
    """The site the lab's scheduler reads: the lab's own, with every schedule always on (the
    tests write other schedules into it; the scheduler picks changes up)."""
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    for name in data.get("wifi", {}).get("schedules", {}):
        data["wifi"]["schedules"][name] = dict.fromkeys(
            ("mon", "tue", "wed", "thu", "fri", "sat", "sun"), ALWAYS)
    path = WIFI_DIR / "site.yaml"
    WIFI_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def build(state: LabState, plan: Plan, ap: AccessPoint) -> None:
    """The two namespaces, their links and the port control rules."""
    site = plan.site
    for ns in (AP_NS, CLIENT_NS):
        state.intend("namespaces", ns)
        netns.add_ns(ns)
    mgmt = next(z for z in site.zones if ap.address in z.subnet)
    netns.veth("pap-m", APPLIANCE_NS, "mgmt0", AP_NS)
    netns.enslave(APPLIANCE_NS, "pap-m", site.zone_ifname(mgmt))
    netns.address(AP_NS, "mgmt0", f"{ap.address}/{mgmt.subnet.prefixlen}")
    netns.veth("pap-u", APPLIANCE_NS, "up0", AP_NS)
    netns.enslave(APPLIANCE_NS, "pap-u", site.zone_ifname(site.zone(data_zone(plan))))
    netns.veth(PORT, AP_NS, "eth0", CLIENT_NS)
    netns.bridge(AP_NS, "br0")
    for link in ("up0", PORT):
        netns.enslave(AP_NS, link, "br0")
    for ns, links in ((AP_NS, ("lo", "mgmt0", "up0", PORT)), (CLIENT_NS, ("lo", "eth0"))):
        for link in links:
            netns.link_up(ns, link)
    for link in ("pap-m", "pap-u"):
        netns.link_up(APPLIANCE_NS, link)
    WIFI_DIR.mkdir(parents=True, exist_ok=True)
    rules = WIFI_DIR / "port.nft"
    rules.write_text(PORT_RULES, encoding="utf-8")
    netns.in_ns(AP_NS, ["nft", "-f", str(rules)])


def _start(state: LabState, name: str, node: str, ns: str, argv: list[str],
           env: dict[str, str] | None = None) -> Proc:
    full = ["ip", "netns", "exec", ns, *argv]
    pid = spawn(full, logfile=LAB_DIR / "log" / f"{node}-{name}.log", env=env)
    return state.add_proc(name, node, pid, full)


def start_wifi(state: LabState, plan: Plan) -> None:
    """The 802.1X corner, when the site has a Linux access point and the appliance's
    FreeRADIUS is serving; otherwise nothing (the Wi-Fi lab test says why)."""
    ap = lab_ap(plan)
    if ap is None:
        return
    auth_port = plan.site.radius.auth_port
    if not netns.listening(APPLIANCE_NS, "udp", auth_port):
        log.warning("no FreeRADIUS on udp/%d in the appliance: no 802.1X corner", auth_port)
        return
    build(state, plan, ap)
    start(state, plan, ap, Path(state.site))


def start(state: LabState, plan: Plan, ap: AccessPoint, source: Path) -> None:
    """hostapd and its action watcher, the client's wpa_supplicant and DHCP, the scheduler."""
    layout = plan.layout
    carine = str(layout.programs / "carine")
    CTRL_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = WIFI_DIR / "hostapd.conf"
    netns.in_ns(APPLIANCE_NS, [carine, "wifi", "render-ap", ap.name, "--site", str(source),
                               "--state", str(layout.state), "--wired", PORT,
                               "--ctrl-dir", str(CTRL_DIR), "--out", str(conf)])
    _start(state, "hostapd", "ap-1", AP_NS, ["hostapd", str(conf)])
    netns.wait_for("hostapd control socket", (CTRL_DIR / PORT).exists)
    script = WIFI_DIR / "port-action.sh"
    script.write_text(ACTION, encoding="utf-8")
    script.chmod(0o755)
    _start(state, "hostapd_cli", "ap-1", AP_NS,
           ["hostapd_cli", "-p", str(CTRL_DIR), "-i", PORT, "-a", str(script)],
           env={"CARINE_PORT_LOG": str(WIFI_DIR / "port-events.log")})
    start_client(state, plan)
    scheduler_site = site_file(plan, source)
    # The declared scheduler, reading the lab's copy of the site, reaching the AP's socket.
    runner.start_daemon(state, plan, runner.unit_named(plan, "scheduler"),
                        ("--interval", "2", "--site", str(scheduler_site),
                         "--local", f"{ap.name}={CTRL_DIR}:{PORT}"))
    state.info["wifi_nodes"] = {"ap-1": AP_NS, "dot1x-1": CLIENT_NS}
    state.info["wifi"] = {"ap": ap.name, "ap_ns": AP_NS, "client_ns": CLIENT_NS,
                          "ctrl": str(CTRL_DIR), "port": PORT, "site": str(scheduler_site),
                          "zone": data_zone(plan), "login": LOGIN}


def start_client(state: LabState, plan: Plan) -> None:
    """wpa_supplicant with the lab pupil's account (PEAP-MSCHAPv2, the appliance's RADIUS CA
    pinned), then busybox udhcpc as every lab client."""
    from appliance.lab.accounts import create_lab_accounts

    layout = plan.layout
    accounts = create_lab_accounts(layout.state / "state.sqlite", LAB_DIR / "accounts.json")
    # The account keeps its NT hash for PEAP-MSCHAPv2 by itself: the check of the tree set the
    # directory to keep them, as the site allows that method (radius.peap_mschapv2).
    ca = layout.state / "radius" / "tls" / "ca.pem"
    conf = WIFI_DIR / "wpa_supplicant.conf"
    password = accounts[LOGIN]["password"]
    conf.write_text(
        f"ctrl_interface={WIFI_DIR / 'supplicant'}\nap_scan=0\nnetwork={{\n"
        f'  key_mgmt=IEEE8021X\n  eap=PEAP\n  identity="{LOGIN}"\n'
        f'  anonymous_identity="anonymous"\n  password="{password}"\n'
        f'  ca_cert="{ca}"\n  phase2="auth=MSCHAPV2"\n  eapol_flags=0\n}}\n',
        encoding="utf-8")
    conf.chmod(0o600)
    _start(state, "wpa_supplicant", "dot1x-1", CLIENT_NS,
           ["wpa_supplicant", "-D", "wired", "-i", "eth0", "-c", str(conf)])
    resolv = Path("/etc/netns") / CLIENT_NS
    state.intend("netns_dirs", str(resolv))
    resolv.mkdir(parents=True, exist_ok=True)
    _start(state, "udhcpc", "dot1x-1", CLIENT_NS,
           ["busybox", "udhcpc", "-f", "-i", "eth0", "-s", str(LAB_DIR / "udhcpc.sh"),
            "-t", "1000", "-T", "1", "-A", "1", "-x", "hostname:dot1x-1"],
           env={"CARINE_NS": CLIENT_NS, "CARINE_LEASES": str(LAB_DIR / "leases")})


def main() -> int:
    """``python -m appliance.lab.wifi``: add the 802.1X corner to a lab that is already up."""
    from appliance.lab.topology import plan as make_plan
    from appliance.site import load_site

    with locked():
        state = LabState.load(STATE)
        if not state.ready:
            print("the lab is not up: carine lab up")
            return 1
        if AP_NS in state.namespaces:
            print("the 802.1X corner is already up")
            return 0
        start_wifi(state, make_plan(load_site(Path(state.site))))
        state.info.setdefault("nodes", {}).update(state.info.get("wifi_nodes", {}))
        state.save()
    print(f"802.1X corner up: {AP_NS}, {CLIENT_NS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
