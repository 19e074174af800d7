"""The Wi-Fi section of the site file (D-WIF-*): SSIDs, access points and weekly radio schedules.

Only WPA2/WPA3-Enterprise and a guest WPA2/WPA3-Personal network can be written: no open, WEP
or WPS network has a spelling here. Checks across sections live in ``wifi_checks``."""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from appliance.site.base import InterfaceName, Line, Name, Section


def _check_interval(value: str) -> str:
    match = re.fullmatch(r"(([01][0-9]|2[0-3]):[0-5][0-9])-(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)",
                         value)
    if not match:
        raise ValueError(f"{value!r} is not an interval HH:MM-HH:MM (e.g. 08:00-12:00)")
    if match.group(1) >= match.group(3):
        raise ValueError(f"the interval {value} is empty: its end must come after its start "
                         "(use two intervals across midnight)")
    return value


def _check_fingerprint(value: str) -> str:
    # What `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints: SHA256 then base64.
    if not re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", value):
        raise ValueError(f"{value!r} is not an SSH host key fingerprint: SHA256: then 43 base64 "
                         "characters, as `ssh-keygen -lf` prints it")
    return value


def _check_ssid(value: str) -> str:
    if not 1 <= len(value.encode()) <= 32:
        raise ValueError("an SSID is 1 to 32 bytes long (accented letters count twice)")
    return value


Interval = Annotated[str, AfterValidator(_check_interval)]
"""A period of the day, HH:MM-HH:MM (end excluded; 24:00 is the end of the day)."""
Fingerprint = Annotated[str, AfterValidator(_check_fingerprint)]
"""An SSH host key fingerprint, SHA256:..."""


class Ssid(Section):
    """A Wi-Fi network the access points broadcast (D-WIF-1, D-WIF-2)."""

    name: Name
    """Short name used in files and by access points (`carine`, `invites`)."""
    ssid: Annotated[Line, AfterValidator(_check_ssid)]
    """The network name people see (1 to 32 bytes)."""
    security: Literal["enterprise", "guest-psk"]
    """enterprise: WPA2/WPA3-Enterprise, 802.1X through the appliance's RADIUS, each user in
    the VLAN of their profile; guest-psk: WPA2/WPA3-Personal on a guest zone, with a long
    generated passphrase (kept in the appliance's state folder, never in this file)."""
    wpa3: Literal["transition", "only"] = "transition"
    """transition: WPA2 and WPA3 clients (management frames protected when they can); only:
    WPA3 clients only (protected management frames required)."""
    zone: Name | None = None
    """Zone of the network's clients: required for guest-psk (a guest zone); for enterprise, a
    fixed VLAN instead of the one RADIUS gives per profile."""
    hidden: bool = False
    """Do not broadcast the name (it hides nothing from a listener; only for legacy setups)."""


class AccessPoint(Section):
    """One access point: where it is, how it is reached, what it broadcasts and when."""

    name: Name
    """Short name (`ap-cdi`, `ap-cm2a`), also its RADIUS NAS identifier."""
    room: Line = Field(min_length=1, max_length=60)
    """Room it serves (radio on/off can be given per room)."""
    classroom: bool = True
    """Whether it serves a classroom (loi 2015-136: in primary schools, classroom Wi-Fi is off
    when not used for teaching)."""
    model: Line = ""
    """Make and model, for the inventory and the settings sheet."""
    address: IPv4Address
    """Management address, inside a management zone."""
    kind: Literal["linux", "vendor"] = "vendor"
    """linux: hostapd configured and switched by the appliance (over SSH); vendor: configured
    by hand from the printable settings sheet."""
    interface: InterfaceName = "wlan0"
    """Radio interface (linux access points)."""
    uplink: InterfaceName = "eth0"
    """Wired port carrying the VLANs (linux access points)."""
    band: Literal["2.4", "5"] = "5"
    """Radio band, in GHz."""
    channel: int = Field(default=0, ge=0, le=177)
    """Channel; 0: 36 on 5 GHz, 6 on 2.4 GHz."""
    ssh_host_key: Fingerprint | None = None
    """Pinned SSH host key fingerprint of a linux access point (`ssh-keygen -lf ...`): the
    appliance refuses any other key."""
    ssh_user: str = Field(default="carine", pattern=r"^[a-z_][a-z0-9_-]{0,31}$")
    """Account the appliance logs in as to switch the radio (linux access points)."""
    ssids: tuple[Name, ...] = Field(min_length=1)
    """Names of the SSIDs it broadcasts."""
    schedule: Name | None = None
    """Weekly radio schedule (a name under wifi.schedules); none: on unless switched off."""
    inactivity_off_minutes: int | None = Field(default=None, ge=5, le=1440)
    """Switch the radio off after this many minutes without any connected device."""

    def radio_channel(self) -> int:
        if self.channel:
            return self.channel
        return 36 if self.band == "5" else 6


class Schedule(Section):
    """A weekly radio schedule: the periods of each day when the radio is on (off otherwise)."""

    mon: tuple[Interval, ...] = ()
    """Monday's on-periods, e.g. [08:20-11:50, 13:30-16:30]."""
    tue: tuple[Interval, ...] = ()
    """Tuesday's on-periods."""
    wed: tuple[Interval, ...] = ()
    """Wednesday's on-periods."""
    thu: tuple[Interval, ...] = ()
    """Thursday's on-periods."""
    fri: tuple[Interval, ...] = ()
    """Friday's on-periods."""
    sat: tuple[Interval, ...] = ()
    """Saturday's on-periods."""
    sun: tuple[Interval, ...] = ()
    """Sunday's on-periods."""

    def days(self) -> tuple[tuple[str, ...], ...]:
        """On-periods per weekday, Monday first (datetime.weekday() order)."""
        return (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)


class Wifi(Section):
    """Wi-Fi: SSIDs, access points and radio schedules (D-WIF-*)."""

    enabled: bool = False
    """Manage access points from the appliance."""
    country: str = Field(default="FR", pattern=r"^[A-Z]{2}$")
    """Regulatory country of the radios."""
    ssids: tuple[Ssid, ...] = ()
    """Wi-Fi networks."""
    access_points: tuple[AccessPoint, ...] = ()
    """Access points of the school."""
    schedules: dict[Name, Schedule] = Field(default_factory=dict)
    """Weekly radio schedules by name (`classe`, `cdi`)."""

    def ssid(self, name: str) -> Ssid:
        """The SSID with that name (KeyError if none)."""
        for ssid in self.ssids:
            if ssid.name == name:
                return ssid
        raise KeyError(name)

    def access_point(self, name: str) -> AccessPoint:
        """The access point with that name (KeyError if none)."""
        for ap in self.access_points:
            if ap.name == name:
                return ap
        raise KeyError(name)
