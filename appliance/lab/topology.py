"""The lab's plan, computed from a site: nodes, links, addresses, and the site as the lab runs it.

Pure: nothing here touches the machine. Simulated internet addresses come from 198.18.0.0/15."""

from __future__ import annotations

import os
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from pathlib import Path

from appliance.render.layout import Layout, installed_programs
from appliance.site import Site, Zone

PREFIX = "carine-"
LAB_DIR = Path("/run/carine-lab")
APPLIANCE_NS = "carine-appliance"
CLAMAV_UNIT = "clamav-daemon.service"  # Debian's; the lab runs its own clamd in its place
CLAMD_SOCKET = LAB_DIR / "clamav" / "clamd.sock"
WAN_NS = "carine-wan"
HOST_LINK = "carine-host"
LAB_NET = IPv4Network("198.18.0.0/15")  # RFC 2544 benchmarking range: never a real network

WAN_GATEWAY = IPv4Interface("198.18.0.1/24")
UPLINK_ADDRESS = IPv4Interface("198.18.0.2/24")
WEB_ADDRESS = IPv4Address("198.18.1.1")
DNS_ADDRESS = IPv4Address("198.18.1.53")
NTP_ADDRESS = IPv4Address("198.18.1.123")
WAN_SIDE_LINK = "school0"
LAB_CA = LAB_DIR / "wan" / "ca" / "ca.pem"

# Named virtual hosts of the simulated internet: national services, an ENT, a plain site.
VHOSTS = (
    "www.education.gouv.fr",
    "educonnect.education.gouv.fr",
    "ent.auvergnerhonealpes.fr",
    "apps.education.fr",
    "gar.education.fr",
    "www.example.org",
)
# The search engines' SafeSearch hosts, each with an address of its own, so that a test can tell
# a SafeSearch answer from the catch-all one.
SAFESEARCH = {
    "forcesafesearch.google.com": IPv4Address("198.18.2.1"),
    "restrict.youtube.com": IPv4Address("198.18.2.2"),
    "restrictmoderate.youtube.com": IPv4Address("198.18.2.3"),
    "strict.bing.com": IPv4Address("198.18.2.4"),
    "safe.duckduckgo.com": IPv4Address("198.18.2.5"),
}
# The simulated internet's mirror of the UT1 lists (as their publisher lays them out).
LIST_MIRROR = "dsi.ut-capitole.fr"
LIST_PATH = "blacklists/download"
# Where the lab takes its filtering lists from (the real UT1 subset beside the repository).
LISTS = Path(os.environ.get("CARINE_LAB_LISTS", "")) if os.environ.get("CARINE_LAB_LISTS") \
    else Path(__file__).resolve().parents[3] / "shared" / "data" / "ut1-subset.tar.xz"
# TCP ports where the simulated internet accepts connections besides the web (mail, ssh...).
WAN_TCP_PORTS = (22, 465, 587, 993, 8080)
WAN_UDP_PORTS = (443, 4500)
CLIENT_TCP_PORTS = (22, 443, 631, 9100, 11100)  # ssh, web, printing, classroom control
PORTAL_CLIENTS = 3  # clients of a portal zone
# Accounts the lab creates in the directory (login, profile): a pupil and a teacher.
LAB_ACCOUNTS = (("eleve.lab", "eleve", "Élise", "Lab"), ("prof.lab", "enseignant", "Paul", "Lab"))


@dataclass(frozen=True)
class Client:
    """One client host of a zone: its namespace and its link into the zone's bridge."""

    zone: Zone
    index: int
    bridge: str

    @property
    def ns(self) -> str:
        return f"{PREFIX}{self.zone.name}-{self.index}"

    @property
    def node(self) -> str:
        return f"{self.zone.name}-{self.index}"

    @property
    def port(self) -> str:
        # The appliance-side end of the veth; VLAN ids keep it unique and under 15 characters.
        return f"p{self.zone.vlan}-{self.index}"

    @property
    def static_address(self) -> IPv4Address | None:
        """A zone without DHCP (switches, access points) is configured by hand: its clients
        take addresses from the top of the subnet, below the host link's last address."""
        if self.zone.dhcp is not None:
            return None
        return self.zone.subnet.broadcast_address - 1 - self.index


@dataclass(frozen=True)
class Plan:
    """Everything ``lab up`` builds."""

    site: Site
    clients: tuple[Client, ...]
    host_zone: Zone | None

    @property
    def layout(self) -> Layout:
        return lab_layout()

    def host_address(self) -> IPv4Address | None:
        """The host's address in the managing zone: the zone's last usable address."""
        if self.host_zone is None:
            return None
        return self.host_zone.subnet.broadcast_address - 1

    def nodes(self) -> dict[str, str]:
        """Node name (as ``lab exec`` takes it) to namespace name."""
        out = {"appliance": APPLIANCE_NS, "wan": WAN_NS}
        out.update({c.node: c.ns for c in self.clients})
        return out


def lab_layout() -> Layout:
    return Layout(LAB_DIR / "tree", LAB_DIR / "state", LAB_DIR / "run", LAB_DIR / "log",
                  installed_programs())


def lab_site(site: Site) -> Site:
    """The site as the lab runs it: same zones, uplink and upstreams on the simulated internet."""
    uplink = site.uplink.model_copy(update={
        "mode": "static", "address": UPLINK_ADDRESS, "gateway": WAN_GATEWAY.ip,
        "public_address": UPLINK_ADDRESS.ip,
    })
    dns = site.dns.model_copy(update={"upstreams": (DNS_ADDRESS,)})
    ntp = site.ntp.model_copy(update={"servers": (str(NTP_ADDRESS),)})
    # The simulated internet's certificates come from the lab CA (build.certificates).
    probes = site.monitoring.probes.model_copy(update={"ca_file": LAB_CA})
    monitoring = site.monitoring.model_copy(update={"probes": probes})
    return site.model_copy(update={"uplink": uplink, "dns": dns, "ntp": ntp,
                                   "monitoring": monitoring})


def plan(site: Site) -> Plan:
    """The lab for ``site``: one client per zone (three in a portal zone: a pupil, a teacher and
    a registered printer), the host attached to the first managing zone."""
    site = lab_site(site)
    clients = tuple(Client(z, i, site.zone_ifname(z)) for z in site.zones
                    for i in range(1, PORTAL_CLIENTS + 1 if z.portal and site.portal.enabled
                                   else 2))
    managing = [z for z in site.zones if z.is_managing()]
    return Plan(site, clients, managing[0] if managing else None)
