"""Start the lab's daemons in their namespaces, record their PIDs, and wait until they serve.

The appliance runs the real dnsmasq and Squid on the rendered tree; the WAN runs dnsmasq and
the lab's web server; each client takes its address from the appliance with busybox udhcpc."""

from __future__ import annotations

import hashlib
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from appliance.lab import netns, runner
from appliance.lab.state import LabState, Proc
from appliance.lab.topology import (
    APPLIANCE_NS,
    CLAMAV_UNIT,
    CLAMD_SOCKET,
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
from appliance.render.units import Unit
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
    """The units the services declare, as the appliance starts them (lab/runner.py): the
    lab's accounts first (as an import would make them), the radio scheduler with the 802.1X
    corner, the ruleset already loaded with the network."""
    if plan.site.portal.enabled and any(z.portal for z in plan.site.zones):
        from appliance.lab.accounts import create_lab_accounts

        create_lab_accounts(plan.layout.state / "state.sqlite", LAB_DIR / "accounts.json")
    # Where the technician puts it on the appliance, and where units read it (the console).
    site_file = plan.layout.etc("carine/site.yaml")
    site_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(state.site, site_file)
    if any(CLAMAV_UNIT in u.wants for u in runner.declared(plan) if isinstance(u, Unit)):
        start_clamd(state)
    runner.start_units(state, plan, skip=("nftables", "scheduler"))


# The EICAR test file's signature: the lab's clamd needs no download (and no 1 GB database).
EICAR_HEX = ("58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e44"
             "4152442d414e544956495255532d544553542d46494c452124482b482a")


def start_clamd(state: LabState) -> None:
    """What Debian's clamav-daemon is on the appliance: a real clamd, here with a local
    one-signature set (EICAR), on the socket the lab gives the units that want it."""
    folder = LAB_DIR / "clamav"
    (folder / "db").mkdir(parents=True, exist_ok=True)
    (folder / "db" / "carine-lab.ndb").write_text(f"Carine-Lab-EICAR:0:*:{EICAR_HEX}\n")
    CLAMD_SOCKET.unlink(missing_ok=True)  # one left by an earlier lab would pass the wait
    conf = folder / "clamd.conf"
    conf.write_text(f"LocalSocket {CLAMD_SOCKET}\nDatabaseDirectory {folder / 'db'}\n"
                    f"Foreground yes\nLogFile {folder / 'clamd.log'}\nStreamMaxLength 100M\n",
                    encoding="utf-8")
    _start(state, "clamd", "appliance", APPLIANCE_NS,
           [shutil.which("clamd") or "/usr/sbin/clamd", "-c", str(conf)])
    netns.wait_for("the lab's clamd", CLAMD_SOCKET.exists, timeout=60)


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
    netns.address(client.ns, "eth0", f"{address}/{zone.subnet.prefixlen}")
    netns.default_route(client.ns, str(gateway))
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
