"""Start the lab's daemons in their namespaces, record their PIDs, and wait until they serve.

The appliance runs the real dnsmasq and Squid on the rendered tree; the WAN runs dnsmasq and
the lab's web server; each client takes its address from the appliance with busybox udhcpc."""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from appliance.lab import netns
from appliance.lab.state import LabState, Proc
from appliance.lab.topology import (
    APPLIANCE_NS,
    CLIENT_TCP_PORTS,
    DNS_ADDRESS,
    LAB_DIR,
    LIST_MIRROR,
    LIST_PATH,
    LISTS,
    NTP_ADDRESS,
    SAFESEARCH,
    VHOSTS,
    WAN_NS,
    WAN_TCP_PORTS,
    WAN_UDP_PORTS,
    WEB_ADDRESS,
    Client,
    Plan,
)
from appliance.render.layout import Layout
from appliance.run import spawn

UDHCPC_SCRIPT = """#!/bin/sh
# udhcpc event script of the CARINE lab: applies a lease inside the client's namespace only.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    {
      [ -n "$domain" ] && echo "search $domain"
      for server in $dns; do echo "nameserver $server"; done
    } > "/etc/netns/$CARINE_NS/resolv.conf"
    echo "ip=$ip mask=$mask router=$router dns=$dns ntp=$ntpsrv domain=$domain lease=$lease" \\
      > "$CARINE_LEASES/$CARINE_NS.tmp"
    mv "$CARINE_LEASES/$CARINE_NS.tmp" "$CARINE_LEASES/$CARINE_NS"
    ;;
esac
exit 0
"""


def _start(state: LabState, name: str, node: str, ns: str, argv: list[str],
           env: dict[str, str] | None = None) -> Proc:
    full = ["ip", "netns", "exec", ns, *argv]
    # `ip netns exec` execs the command, so the PID we get is the daemon's own.
    pid = spawn(full, logfile=LAB_DIR / "log" / f"{node}-{name}.log", env=env)
    return state.add_proc(name, node, pid, full)


def _python() -> str:
    return sys.executable


def start_wan(state: LabState, plan: Plan, ca_dir: Path) -> None:
    """DNS that answers every name with the web server, the web server, and other services."""
    wan = LAB_DIR / "wan"
    conf = wan / "dnsmasq.conf"
    conf.write_text(
        "# The simulated internet's DNS: every name is the lab's web server.\n"
        "no-resolv\nno-hosts\nbind-interfaces\n"
        f"listen-address={DNS_ADDRESS}\naddress=/#/{WEB_ADDRESS}\n"
        + "".join(f"address=/{name}/{address}\n" for name, address in SAFESEARCH.items())
        +
        f"pid-file={wan}/dnsmasq.pid\nlog-queries\n",
        encoding="utf-8",
    )
    _start(state, "dnsmasq", "wan", WAN_NS, ["dnsmasq", "-k", "-C", str(conf),
                                             "--log-facility=-"])
    mirror = wan / "mirror"
    _fill_mirror(mirror / LIST_PATH)
    argv = [_python(), "-m", "appliance.lab.servers", "--node", "wan", "--web",
            "--bind", str(WEB_ADDRESS), f"--static={LIST_MIRROR}={mirror}",
            "--ca", str(ca_dir), "--certs", str(wan / "certs")]
    argv += [f"--tcp={p}" for p in WAN_TCP_PORTS] + [f"--udp={p}" for p in WAN_UDP_PORTS]
    _start(state, "web", "wan", WAN_NS, argv, env={"PYTHONPATH": _source_root()})
    ntp = wan / "chrony.conf"
    ntp.write_text(
        "# The simulated internet's time server: its own clock, served as stratum 8.\n"
        f"local stratum 8\nallow all\nbindaddress {NTP_ADDRESS}\ncmdport 0\n"
        f"bindcmdaddress /\npidfile {wan}/chronyd.pid\n",  # "/": no command socket
        encoding="utf-8",
    )
    # -x: serve time without ever touching the clock of this machine.
    _start(state, "chronyd", "wan", WAN_NS, ["chronyd", "-d", "-x", "-f", str(ntp)])
    netns.wait_for("WAN DNS", lambda: netns.listening(WAN_NS, "udp", 53))
    netns.wait_for("WAN NTP", lambda: netns.listening(WAN_NS, "udp", 123))
    netns.wait_for("WAN web", lambda: all(netns.listening(WAN_NS, "tcp", p) for p in (80, 443)))
    state.info["vhosts"] = list(VHOSTS)


def _fill_mirror(folder: Path) -> None:
    """The real lists as their publisher serves them: the archive and its MD5SUM.LST."""
    folder.mkdir(parents=True, exist_ok=True)
    if not LISTS.is_file():
        return
    archive = folder / LISTS.name
    shutil.copyfile(LISTS, archive)
    digest = hashlib.md5(archive.read_bytes(), usedforsecurity=False).hexdigest()
    (folder / "MD5SUM.LST").write_text(f"{digest}  {archive.name}\n", encoding="utf-8")


def start_appliance(state: LabState, plan: Plan) -> None:
    """dnsmasq and Squid from the rendered tree."""
    layout: Layout = plan.layout
    dnsmasq_conf = layout.etc("carine/dnsmasq.conf")
    _start(state, "dnsmasq", "appliance", APPLIANCE_NS,
           ["dnsmasq", "-k", f"--conf-file={dnsmasq_conf}", "--log-facility=-", "--log-dhcp"])
    netns.wait_for("appliance DNS", lambda: netns.listening(APPLIANCE_NS, "udp", 53))
    _start(state, "chronyd", "appliance", APPLIANCE_NS,
           ["chronyd", "-d", "-x", "-f", str(layout.etc("chrony/chrony.conf"))])
    netns.wait_for("appliance NTP", lambda: netns.listening(APPLIANCE_NS, "udp", 123))
    if plan.site.filtering.enabled:
        start_filtering(state, plan)
        squid_conf = layout.etc("squid/squid.conf")
        _start(state, "squid", "appliance", APPLIANCE_NS, ["squid", "-N", "-f", str(squid_conf)])
        proxy = plan.site.filtering.proxy
        ports = (proxy.port, proxy.intercept_http, proxy.intercept_https)
        netns.wait_for("Squid", lambda: all(
            netns.listening(APPLIANCE_NS, "tcp", p) for p in ports), timeout=40)
    if any(z.portal for z in plan.site.zones) and plan.site.portal.enabled:
        start_portal(state, plan)
    if plan.site.radius.enabled:
        start_radius(state, plan)
    if plan.site.monitoring.enabled:
        port = plan.site.monitoring.metrics_port
        _start(state, "exporter", "appliance", APPLIANCE_NS,
               [str(layout.programs / "carine-exporter"), "--config",
                str(layout.etc("carine/monitoring.json"))])
        netns.wait_for("metrics exporter", lambda: netns.listening(APPLIANCE_NS, "tcp", port))
        start_prober(state, plan)
    start_journal(state, plan)


def start_journal(state: LabState, plan: Plan) -> None:
    """The journal daemon, as root in the appliance (conntrack needs CAP_NET_ADMIN): follows
    Squid's access log, polls NAT, seals and purges; ready once it has written its PID file."""
    layout = plan.layout
    pidfile = layout.run / "journald.pid"
    pidfile.unlink(missing_ok=True)
    _start(state, "journald", "appliance", APPLIANCE_NS,
           [str(layout.programs / "carine-journald"), "--config",
            str(layout.etc("carine/journal.json")), "--interval", "1", "--pidfile",
            str(pidfile)])
    netns.wait_for("journal daemon", pidfile.exists)


def start_prober(state: LabState, plan: Plan) -> None:
    """The prober, as root in the appliance (its ICMP probe needs raw sockets); ready once it
    has written its PID file. Its first results follow within seconds."""
    layout = plan.layout
    pidfile = layout.run / "prober.pid"
    pidfile.unlink(missing_ok=True)
    _start(state, "prober", "appliance", APPLIANCE_NS,
           [str(layout.programs / "carine-prober"), "--config",
            str(layout.etc("carine/monitoring.json"))])
    netns.wait_for("prober", pidfile.exists)


def start_filtering(state: LabState, plan: Plan) -> None:
    """The DNS views (after the runtime files they read) and the block page, as the appliance
    runs them: through CARINE's own commands, like a technician would."""
    layout = plan.layout
    config = str(layout.etc("carine/filtering.json"))
    # The lists arrive as on a school's box: downloaded from the mirror, checked, compiled,
    # switched in; the same command writes the DNS views' files.
    mirror = f"http://{LIST_MIRROR}/{LIST_PATH}"
    netns.in_ns(APPLIANCE_NS, [
        str(layout.programs / "carine"), "filter", "update", "--source", f"{mirror}/{LISTS.name}",
        "--checksum-url", f"{mirror}/MD5SUM.LST", "--dns-config", config], timeout=300)
    for view in sorted(layout.etc("carine/dns-views").glob("*.conf")):
        port = int(next(line for line in view.read_text().splitlines()
                        if line.startswith("port=")).split("=", 1)[1])
        logfile = f"--log-facility={layout.log}/dns-{view.stem}.log"
        _start(state, f"dns-{view.stem}", "appliance", APPLIANCE_NS,
               ["dnsmasq", "-k", "-C", str(view), logfile])
        netns.wait_for(f"DNS view {view.stem}", _listening_udp(port))
    page = plan.site.filtering.block_page_port
    _start(state, "blockpage", "appliance", APPLIANCE_NS,
           [str(layout.programs / "carine-blockpage"), "--config", config, "--port", str(page),
            "--bind", "0.0.0.0",  # noqa: S104 - every zone reaches it; nftables guards the port
            "--secret-file", str(layout.state / "filtering/blockpage.key")])
    netns.wait_for("block page", lambda: netns.listening(APPLIANCE_NS, "tcp", page))


def start_portal(state: LabState, plan: Plan) -> None:
    """The lab's accounts in the directory (as an import would make them), then the portal."""
    from appliance.lab.accounts import create_lab_accounts

    layout = plan.layout
    create_lab_accounts(layout.state / "state.sqlite", LAB_DIR / "accounts.json")
    port = plan.site.portal.port
    _start(state, "portal", "appliance", APPLIANCE_NS,
           [str(layout.programs / "carine-portal"), "--config",
            str(layout.etc("carine/portal.json"))])
    netns.wait_for("portal", lambda: netns.listening(APPLIANCE_NS, "tcp", port))


def start_radius(state: LabState, plan: Plan) -> None:
    """FreeRADIUS on the rendered folder; its secrets and certificates were made in the lab's
    state by the check of the tree (`carine radius secret NAME` prints a client's secret)."""
    layout = plan.layout
    if shutil.which("freeradius") is None:
        from appliance.errors import CarineError

        raise CarineError("the site enables RADIUS but freeradius is missing", "make install")
    for folder in (layout.log / "freeradius", layout.run / "freeradius"):
        folder.mkdir(parents=True, exist_ok=True)
    _start(state, "freeradius", "appliance", APPLIANCE_NS,
           ["freeradius", "-f", "-l", "stdout", "-d", str(layout.etc("carine/freeradius"))])
    port = plan.site.radius.auth_port
    netns.wait_for("FreeRADIUS", _listening_udp(port), timeout=30)


def _listening_udp(port: int) -> Callable[[], bool]:
    return lambda: netns.listening(APPLIANCE_NS, "udp", port)


def start_clients(state: LabState, plan: Plan) -> None:
    """Each client: a small TCP service (a classroom-control port, SSH) and a DHCP client."""
    script = LAB_DIR / "udhcpc.sh"
    script.write_text(UDHCPC_SCRIPT, encoding="utf-8")
    script.chmod(0o755)
    leases = LAB_DIR / "leases"
    leases.mkdir(exist_ok=True)
    for client in plan.clients:
        argv = [_python(), "-m", "appliance.lab.servers", "--node", client.node]
        argv += [f"--tcp={p}" for p in CLIENT_TCP_PORTS]
        _start(state, "services", client.node, client.ns, argv,
               env={"PYTHONPATH": _source_root()})
        if client.static_address is not None:
            _configure_static(client, leases)
            continue
        _start(state, "udhcpc", client.node, client.ns,
               ["busybox", "udhcpc", "-f", "-i", "eth0", "-s", str(script), "-t", "30",
                "-T", "1", "-A", "1", "-x", f"hostname:{client.node}"],
               env={"CARINE_NS": client.ns, "CARINE_LEASES": str(leases)})
    for client in plan.clients:
        netns.wait_for(f"DHCP lease of {client.node}", _leased(leases, client), timeout=40)
    from appliance.lab.wifi import start_wifi  # the 802.1X corner, after RADIUS and DHCP

    start_wifi(state, plan)


def _configure_static(client: Client, leases: Path) -> None:
    """What a technician types on a device of a zone without DHCP; recorded like a lease."""
    address, zone = client.static_address, client.zone
    gateway = zone.gateway()
    netns.in_ns(client.ns, ["ip", "addr", "replace", f"{address}/{zone.subnet.prefixlen}",
                            "dev", "eth0"])
    netns.in_ns(client.ns, ["ip", "route", "replace", "default", "via", str(gateway)])
    (leases / client.ns).write_text(f"ip={address} mask={zone.subnet.prefixlen} "
                                    f"router={gateway} dns={gateway} static=yes\n")


def _leased(leases: Path, client: Client) -> Callable[[], bool]:
    return lambda: (leases / client.ns).exists()


def read_lease(ns: str) -> dict[str, str]:
    """What the client's DHCP lease said (ip, mask, router, dns...)."""
    path = LAB_DIR / "leases" / ns
    if not path.exists():
        return {}
    return dict(item.split("=", 1) for item in path.read_text().split() if "=" in item)


def _source_root() -> str:
    # The lab's helper programs are this package's modules; make them importable as they are.
    return str(Path(__file__).resolve().parents[2])


def require_tools() -> None:
    """Fail early, naming what is missing, rather than half-way through ``up``."""
    from appliance.errors import CarineError

    missing = [t for t in ("ip", "nft", "dnsmasq", "squid", "busybox", "ss", "chronyd", "runuser")
               if shutil.which(t) is None]
    if missing:
        raise CarineError(f"the lab needs {', '.join(missing)}", "run `make install`")
