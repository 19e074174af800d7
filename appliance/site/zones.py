"""Zones of the school network (D-NET-1, D-NET-2): one VLAN, one subnet, one purpose each.

A zone says who lives there, how it reaches the internet and what else it may reach."""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from appliance.site.base import InterfaceName, Name, Port, Section, check_line


class Purpose(StrEnum):
    """What a zone is for; it decides the defaults and what the zone may never reach."""

    ADMIN = "admin"
    STAFF = "staff"
    PEDAGOGICAL = "pedagogical"
    GUEST = "guest"
    MANAGEMENT = "management"


# D-NET-1: pupils and guests never reach the staff or administrative zones.
PROTECTED_FROM = {
    Purpose.PEDAGOGICAL: {Purpose.ADMIN, Purpose.STAFF, Purpose.MANAGEMENT},
    Purpose.GUEST: {Purpose.ADMIN, Purpose.STAFF, Purpose.MANAGEMENT, Purpose.PEDAGOGICAL},
}


class Internet(StrEnum):
    """How a zone reaches the internet."""

    FILTERED = "filtered"
    """Web goes through the filtering proxy (explicit or intercepted); QUIC is dropped."""
    DIRECT = "direct"
    """Routed and NATed without the proxy (for equipment that cannot use one)."""
    NONE = "none"
    """No internet at all (management networks, printers)."""


COMMENT_MAX_BYTES = 100  # nft keeps at most 128 bytes, and the rule comment adds "<zone>: "


def _check_comment(value: str) -> str:
    # The comment is written inside a quoted nft comment "...": nft has no escape for '"'.
    check_line(value)
    if '"' in value or "\\" in value:
        raise ValueError("must not contain double quotes or backslashes (it goes into the "
                         "nftables ruleset)")
    if len(value.encode()) > COMMENT_MAX_BYTES:
        raise ValueError(f"is too long for an nftables comment: at most {COMMENT_MAX_BYTES} "
                         "bytes (accented letters count twice)")
    return value


LEASE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 1}


def _lease_text(value: object) -> object:
    # `lease: 3600` is a YAML number: take it as seconds, as dnsmasq does.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _check_lease(value: str) -> str:
    seconds = int(value.rstrip("smhd")) * LEASE_UNITS[value.lstrip("0123456789")]
    if not 120 <= seconds <= 365 * 86400:  # dnsmasq's floor is 2 minutes
        raise ValueError(f"lease {value} is outside 2 minutes to 365 days")
    return value


def _require_prefix(value: object) -> object:
    # ipaddress reads "10.30.0.0" as a /32 network: say what is missing instead of "too small".
    if isinstance(value, str) and "/" not in value:
        raise ValueError(f"{value!r} has no prefix length: write e.g. {value}/24")
    return value


class Dhcp(Section):
    """The DHCP pool the appliance serves in a zone."""

    start: IPv4Address
    """First address handed out."""
    end: IPv4Address
    """Last address handed out."""
    lease: Annotated[str, BeforeValidator(_lease_text), Field(pattern=r"^[0-9]+[smhd]?$"),
                     AfterValidator(_check_lease)] = "8h"
    """Lease time, dnsmasq style: 3600, 45m, 8h, 1d."""


class Allow(Section):
    """One opening out of a zone, beyond what its purpose gives by default."""

    to: str
    """`internet`, or the name of another zone."""
    proto: Literal["tcp", "udp"] = "tcp"
    """Transport protocol."""
    ports: tuple[Port, ...] = Field(min_length=1)
    """Destination ports."""
    comment: Annotated[str, AfterValidator(_check_comment)] = ""
    """Why this opening exists (shown in the ruleset)."""


class Zone(Section):
    """A network zone: a VLAN with its own subnet, served and routed by the appliance."""

    name: Name
    """Short name, used in interface, set and file names (`pedago`, `staff`)."""
    purpose: Purpose
    """admin, staff, pedagogical, guest or management."""
    vlan: int = Field(ge=1, le=4094)
    """802.1Q VLAN id (1-4094), unique per site."""
    subnet: Annotated[IPv4Network, BeforeValidator(_require_prefix)]
    """The zone's IPv4 network, e.g. 10.30.0.0/22."""
    address: IPv4Address | None = None
    """The appliance's address in the zone (the clients' gateway); default: first host."""
    interface: InterfaceName | None = None
    """Interface carrying the zone; default: `<lan.trunk>.<vlan>`."""
    dhcp: Dhcp | None = None
    """DHCP pool; omit for a zone with static addresses only."""
    internet: Internet = Internet.FILTERED
    """filtered (through the proxy), direct, or none."""
    profiles: tuple[Name, ...] = ()
    """Filtering profiles whose users may live in this zone."""
    allow: tuple[Allow, ...] = ()
    """Extra openings out of the zone: to the internet or to another zone."""
    manages_appliance: bool | None = None
    """May reach the appliance's SSH and console; default: only management zones."""
    portal: bool = False
    """Clients must authenticate before any traffic beyond DHCP, DNS and the portal: portal
    login, registered device, guest voucher or an 802.1X session (D-AUT-1)."""

    def gateway(self) -> IPv4Address:
        """The appliance's address in this zone."""
        return self.address if self.address is not None else next(self.subnet.hosts())

    def gateway_interface(self) -> IPv4Interface:
        """The appliance's address with the zone's prefix length."""
        return IPv4Interface(f"{self.gateway()}/{self.subnet.prefixlen}")

    def ifname(self, trunk: str) -> str:
        """The interface name on the appliance (VLAN sub-interface of the trunk by default)."""
        return self.interface if self.interface is not None else f"{trunk}.{self.vlan}"

    def is_managing(self) -> bool:
        """Whether this zone may administer the appliance (SSH, console)."""
        if self.manages_appliance is not None:
            return self.manages_appliance
        return self.purpose is Purpose.MANAGEMENT
