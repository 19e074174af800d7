"""Site file sections of the services: portal, RADIUS, Wi-Fi, storage, monitoring.

Each has defaults that make sense for a school, so a small site file stays small."""

from __future__ import annotations

from ipaddress import IPv4Network

from pydantic import Field

from appliance.site.base import Port, Section
from appliance.site.probes import Probes


class Portal(Section):
    """Captive portal (D-AUT-1, D-AUT-3, D-AUT-5)."""

    enabled: bool = False
    """Require a portal login before internet access in zones that have no 802.1X."""
    idle_timeout_minutes: int = Field(default=30, ge=1, le=1440)
    """Re-authentication after this much inactivity (D-AUT-3)."""
    session_hours: int = Field(default=10, ge=1, le=24)
    """Longest session before a new login."""


class Radius(Section):
    """FreeRADIUS for 802.1X (D-WIF-1)."""

    enabled: bool = False
    """Run FreeRADIUS for the access points and switches."""


class Wifi(Section):
    """Wi-Fi: SSIDs, access points and radio schedules (D-WIF-*)."""

    enabled: bool = False
    """Manage access points from the appliance."""


class Storage(Section):
    """WebDAV storage (D-STO-*)."""

    enabled: bool = False
    """Serve personal and shared spaces over WebDAV."""
    quota_mb_pupil: int = Field(default=500, ge=0)
    """Default quota of a pupil, in MB."""
    quota_mb_staff: int = Field(default=5000, ge=0)
    """Default quota of a staff member, in MB."""


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
