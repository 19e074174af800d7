"""Site file sections of the services: portal, RADIUS, Wi-Fi, storage, monitoring.

Each has defaults that make sense for a school, so a small site file stays small."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from pathlib import Path
from typing import Literal

from pydantic import Field

from appliance.site.base import Name, Port, Section
from appliance.site.probes import Probes
from appliance.site.storage import Storage
from appliance.site.wifi import Wifi

__all__ = ["Monitoring", "Portal", "Radius", "Storage", "Wifi"]


class SessionLimits(Section):
    """Timeouts of one profile's portal sessions (D-AUT-3); unset: the portal's defaults."""

    idle_timeout_minutes: int | None = Field(default=None, ge=1, le=1440)
    """Re-authentication after this much inactivity."""
    session_hours: int | None = Field(default=None, ge=1, le=24)
    """Longest session before a new login."""


class PortalLockout(Section):
    """Lockout of an account against password guessing."""

    attempts: int = Field(default=5, ge=1, le=100)
    """Failures in a row that lock the account."""
    minutes: int = Field(default=15, ge=1, le=1440)
    """How long a locked account refuses every password."""


class Portal(Section):
    """Captive portal (D-AUT-1, D-AUT-3, D-AUT-5)."""

    enabled: bool = False
    """Run the captive portal for the zones marked `portal: true`."""
    idle_timeout_minutes: int = Field(default=30, ge=1, le=1440)
    """Re-authentication after this much inactivity (D-AUT-3)."""
    session_hours: int = Field(default=10, ge=1, le=24)
    """Longest session before a new login."""
    port: Port = 8090
    """Port of the portal on the appliance (unauthenticated web is redirected there)."""
    charter_version: str = Field(default="2025-1", pattern=r"^[A-Za-z0-9._-]{1,32}$")
    """Version of the usage charter; a new version is asked again of everyone (D-AUT-5)."""
    charter_file: Path | None = None
    """File with the school's own charter text (plain text, UTF-8) on the appliance; default:
    the charter shipped with CARINE (circulaire 2004-035)."""
    profiles: dict[Name, SessionLimits] = Field(default_factory=dict)
    """Per-profile timeouts (`eleve: {idle_timeout_minutes: 15}`); others take the defaults."""
    lockout: PortalLockout = PortalLockout()
    """Account lockout after failed passwords."""
    attempts_per_minute: int = Field(default=10, ge=1, le=600)
    """Login and voucher attempts allowed per client address and minute (burst: the same)."""

    def limits(self, profile: str) -> tuple[int, int]:
        """(idle timeout, absolute lifetime) in seconds for a session of ``profile``."""
        own = self.profiles.get(profile, SessionLimits())
        idle = own.idle_timeout_minutes or self.idle_timeout_minutes
        hours = own.session_hours or self.session_hours
        return idle * 60, hours * 3600


class RadiusClient(Section):
    """An access point or switch that asks the appliance's FreeRADIUS (a RADIUS client).

    Its shared secret is generated on the appliance, never written here: `carine radius secret
    NAME` shows it to the technician who configures the device."""

    name: Name
    """Short name of the device or group of devices (`ap-cdi`, `switch-b1`)."""
    kind: Literal["ap", "switch"] = "ap"
    """ap (Wi-Fi access point) or switch (wired 802.1X and MAC authentication)."""
    address: IPv4Address | None = None
    """Management address of one device, inside a management zone."""
    network: IPv4Network | None = None
    """Or a whole network of devices sharing one secret, inside a management zone."""
    shortname: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
    """Name shown in FreeRADIUS logs; default: the name."""


class Radius(Section):
    """FreeRADIUS for 802.1X (D-WIF-1, D-WIF-2): EAP-TLS always, PEAP and TTLS as chosen."""

    enabled: bool = False
    """Run FreeRADIUS for the access points and switches."""
    clients: tuple[RadiusClient, ...] = ()
    """Access points and switches allowed to ask (each gets a generated secret)."""
    peap_mschapv2: bool = True
    """Accept PEAP-MSCHAPv2 (what most devices offer). It needs an NT hash of each password,
    as good as the password to whoever steals it; false drops the stored NT hashes."""
    ttls_pap: bool = True
    """Accept EAP-TTLS/PAP (the password travels inside TLS, checked against argon2id)."""
    profile_zones: dict[Name, Name] = Field(default_factory=dict)
    """Profile -> zone: a user of that profile is put in the zone's VLAN (RFC 2868 attributes);
    a profile not listed gets no VLAN attribute (the SSID's or port's own VLAN)."""
    auth_port: Port = 1812
    """UDP port of authentication."""
    acct_port: Port = 1813
    """UDP port of accounting."""
    interim_minutes: int = Field(default=10, ge=1, le=1440)
    """Accounting update interval asked of the access points (Acct-Interim-Interval)."""
    session_hours: int = Field(default=12, ge=1, le=24)
    """Re-authentication after this long (Session-Timeout)."""


class Monitoring(Section):
    """Supervision for the académie (D-SUP-*)."""

    enabled: bool = True
    """Expose metrics for the académie's Prometheus."""
    metrics_port: Port = 9108
    """Port of the /metrics endpoint, reachable from managing zones and the scrapers only."""
    scrapers: tuple[IPv4Network, ...] = ()
    """The académie's Prometheus addresses, allowed to scrape through the uplink."""
    metrics_user: str = Field(default="prometheus", pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    """User name of the /metrics basic authentication."""
    metrics_password_hash: str | None = Field(default=None, pattern=r"^\$argon2id\$")
    """argon2id hash of its password (`carine monitor hash-password` makes one)."""
    objective: float = Field(default=99.5, gt=0, le=100)
    """Monthly availability objective of each probed service, in percent (D-SUP-3)."""
    probes: Probes = Probes()
    """What the prober checks from inside the school (D-SUP-1)."""
