"""The site model: one typed, frozen description of a school, parsed once from site.yaml.

Everything after the loader receives a ``Site``, never a dict."""

from __future__ import annotations

import re
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

from appliance.site.base import Host, InterfaceName, Line, Section
from appliance.site.directory import Directory
from appliance.site.filtering import Filtering
from appliance.site.journal import JournalSettings
from appliance.site.services import Monitoring, Portal, Radius, Storage, Wifi
from appliance.site.zones import Zone


def _check_uai(value: str) -> str:
    if not re.fullmatch(r"[0-9]{7}[A-Z]", value):
        raise ValueError(f"{value!r} is not a UAI: 7 digits then a capital letter, e.g. 0691234X")
    return value


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)  # the Wi-Fi schedules and the journal load it; refuse it here, not there
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone, e.g. Europe/Paris or "
                         "America/Cayenne") from None
    return value


class SchoolKind(StrEnum):
    """Kind of school; it sets the default filtering audience of pupils."""

    ECOLE = "ecole"
    COLLEGE = "college"
    LYCEE = "lycee"


class School(Section):
    """Identity of the school."""

    uai: Annotated[str, AfterValidator(_check_uai)]
    """National school identifier: 7 digits and a capital letter, e.g. 0691234X."""
    name: Line = Field(min_length=1, max_length=120)
    """Name of the school, as shown to users."""
    kind: SchoolKind
    """ecole, college or lycee."""
    academie: Line = Field(min_length=1, max_length=60)
    """Académie the school belongs to (labels metrics, chooses the supervision)."""
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "Europe/Paris"
    """Time zone for schedules and logs."""


class Uplink(Section):
    """The appliance's link towards the internet (the collectivité's network or the ISP box)."""

    interface: InterfaceName = "eth0"
    """Interface towards the internet."""
    mode: Literal["static", "dhcp"] = "static"
    """static, or dhcp when the box in front hands out an address."""
    address: IPv4Interface | None = None
    """Static address with prefix length, e.g. 203.0.113.10/29 (static mode)."""
    gateway: IPv4Address | None = None
    """Next hop towards the internet (static mode)."""
    public_address: IPv4Address | None = None
    """Address the school is seen from on the internet, if known (connection logs, D-LOG-1)."""


class Lan(Section):
    """The school side of the appliance."""

    trunk: InterfaceName = "eth1"
    """802.1Q trunk carrying the zones' VLANs (D-NET-2)."""
    domain: str = Field(default="lan", pattern=r"^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$")
    """Local DNS domain of the school's hosts."""
    dhcp_ping_check: bool = False
    """Ping an address before offering it. dnsmasq then waits up to 3 s per new client, one at
    a time: turn it on only where undeclared static hosts sit inside the DHCP pools."""


DOMAIN_RE = r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$"


class Dns(Section):
    """Caching DNS resolver of the appliance (D-NET-3)."""

    upstreams: tuple[IPv4Address, ...] = Field(min_length=1)
    """Resolvers the appliance forwards to (the collectivité's or académie's)."""
    cache_size: int = Field(default=10000, ge=0, le=1000000)
    """Number of cached answers."""
    private_domains: tuple[Annotated[str, Field(pattern=DOMAIN_RE)], ...] = ()
    """Domains whose public answers may be private addresses (the collectivité's own services).
    Everywhere else such answers are dropped, against DNS rebinding."""


class Ntp(Section):
    """Time service (D-NET-3; timestamps of connection logs depend on it, D-LOG-1)."""

    # At least one: with none, chrony serves no time and the logs' timestamps drift (D-LOG-1).
    servers: tuple[Host, ...] = Field(default=("0.fr.pool.ntp.org", "1.fr.pool.ntp.org"),
                                      min_length=1)
    """Upstream NTP servers (names or addresses)."""


class Site(Section):
    """A whole school: identity, addressing, zones and services."""

    school: School
    """Who the school is."""
    uplink: Uplink = Uplink()
    """Towards the internet."""
    lan: Lan = Lan()
    """Towards the school's network."""
    dns: Dns
    """Caching resolver."""
    ntp: Ntp = Ntp()
    """Time service."""
    zones: tuple[Zone, ...] = Field(min_length=1)
    """Network zones (at least one)."""
    filtering: Filtering = Filtering()
    """Filtering for minors."""
    portal: Portal = Portal()
    """Captive portal."""
    radius: Radius = Radius()
    """802.1X authentication."""
    wifi: Wifi = Wifi()
    """Wi-Fi management."""
    storage: Storage = Storage()
    """WebDAV storage."""
    monitoring: Monitoring = Monitoring()
    """Supervision."""
    journal: JournalSettings = JournalSettings()
    """Legal journal: retention and forwarding."""
    directory: Directory = Directory()
    """Directory and imports."""

    def zone(self, name: str) -> Zone:
        """The zone with that name (KeyError if none)."""
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise KeyError(name)

    def zone_ifname(self, zone: Zone) -> str:
        """The appliance interface that carries ``zone``."""
        return zone.ifname(self.lan.trunk)
