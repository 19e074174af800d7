"""Site file sections of the services: filtering, portal, RADIUS, Wi-Fi, storage, monitoring.

Each has defaults that make sense for a school, so a small site file stays small."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from appliance.site.base import Name, Port, Section


class Audience(StrEnum):
    """Who a filtering profile is for; pupils get the strictest national floor (D-FIL-2)."""

    PUPIL = "pupil"
    STAFF = "staff"
    GUEST = "guest"


# D-FIL-3: circumvention categories are always blocked for pupils.
CIRCUMVENTION = ("redirector", "vpn", "doh", "remote-control")
PUPIL_CATEGORIES = (
    "adult", "agressif", "dangerous_material", "drogue", "gambling", "hacking", "malware",
    "phishing", "mixed_adult", "sect", "warez", *CIRCUMVENTION,
)  # fmt: skip
STAFF_CATEGORIES = ("adult", "malware", "phishing", "hacking")


class FilterProfile(Section):
    """A filtering profile: who it is for and which UT1 categories it blocks."""

    audience: Audience
    """pupil, staff or guest."""
    blocked_categories: tuple[str, ...] | None = None
    """UT1 categories to block; default: the audience's list (circumvention always, for pupils)."""
    safesearch: bool = True
    """Force SafeSearch on search engines and YouTube by DNS (D-FIL-4)."""

    def categories(self) -> tuple[str, ...]:
        """The blocked categories in force, including the floor a school cannot loosen."""
        if self.blocked_categories is not None:
            chosen = self.blocked_categories
        elif self.audience is Audience.STAFF:
            chosen = STAFF_CATEGORIES
        else:
            chosen = PUPIL_CATEGORIES
        floor = CIRCUMVENTION if self.audience is Audience.PUPIL else ()
        return tuple(dict.fromkeys((*chosen, *floor)))


def _default_profiles() -> dict[str, FilterProfile]:
    return {
        "eleve": FilterProfile(audience=Audience.PUPIL),
        "enseignant": FilterProfile(audience=Audience.STAFF),
        "personnel": FilterProfile(audience=Audience.STAFF),
        "invite": FilterProfile(audience=Audience.GUEST),
    }


class Proxy(Section):
    """Ports of the filtering proxy (Squid) on the appliance."""

    port: Port = 3128
    """Explicit proxy port (browsers configured by policy or WPAD)."""
    intercept_http: Port = 3129
    """Port that receives redirected plain HTTP."""
    intercept_https: Port = 3130
    """Port that receives redirected HTTPS (peeked for SNI, then spliced: never decrypted)."""
    memory_cache_mb: int = Field(default=256, ge=0, le=16384)
    """Squid's memory cache size."""


class Filtering(Section):
    """Filtering for minors (D-FIL-*): profiles, proxy, DNS-level filtering."""

    enabled: bool = True
    """Run the filtering proxy."""
    proxy: Proxy = Proxy()
    """Proxy ports and cache."""
    profiles: dict[Name, FilterProfile] = Field(default_factory=_default_profiles)
    """Filtering profiles by name (`eleve`, `enseignant`, ...)."""


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
    """Port of the /metrics endpoint, reachable from managing zones."""
