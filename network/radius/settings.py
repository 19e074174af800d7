"""What the backend inside FreeRADIUS needs to know, rendered from the site as one JSON file
(etc/freeradius/carine.json): where the state is, which methods are on, profile -> VLAN."""

from __future__ import annotations

from pathlib import Path

from appliance import runtime
from appliance.render.layout import Layout
from appliance.runtime import RuntimeFile
from appliance.site import Site
from network.radius.paths import RadiusPaths


class Settings(RuntimeFile):
    """The backend's view of the site (freeradius/carine.json, loaded once per FreeRADIUS
    start through the shared runtime codec)."""

    state: str
    journal: str
    leases: str
    radius_state: str
    nt_hash: bool
    ttls_pap: bool
    vlans: dict[str, int]
    """Profile -> VLAN id returned in Tunnel-Private-Group-Id."""
    zones: list[tuple[str, str]]
    """(zone name, subnet) to name the zone of a session's address."""
    zone_vlans: dict[str, int]
    """Zone -> VLAN, for registered devices that name their zone."""
    lockout_attempts: int
    lockout_minutes: int
    interim_seconds: int
    session_seconds: int
    idle_seconds: int = 0
    """An 802.1X session without accounting news for this long is idle (3 interim periods)."""
    clients: tuple[str, ...] = ()
    """Names of the RADIUS clients (each has a secret file in the state folder)."""
    server_name: str = "radius"
    """Subject of the RADIUS server certificate (what supplicants are told to expect)."""
    school: str = ""

    def to_json(self) -> str:
        return runtime.dump(self)

    @classmethod
    def load(cls, path: Path) -> Settings:
        return runtime.load(cls, path, "RADIUS")


def settings_for(site: Site, layout: Layout) -> Settings:
    radius = site.radius
    vlans = {profile: site.zone(zone).vlan for profile, zone in radius.profile_zones.items()}
    return Settings(
        state=str(layout.state / "state.sqlite"),
        journal=str(layout.state / "journal"),
        leases=str(layout.state / "dnsmasq.leases"),
        radius_state=str(RadiusPaths.of(layout).root),
        nt_hash=radius.peap_mschapv2,
        ttls_pap=radius.ttls_pap,
        vlans=dict(sorted(vlans.items())),
        zones=[(z.name, str(z.subnet)) for z in site.zones],
        zone_vlans={z.name: z.vlan for z in site.zones},
        lockout_attempts=site.portal.lockout.attempts,
        lockout_minutes=site.portal.lockout.minutes,
        interim_seconds=radius.interim_minutes * 60,
        session_seconds=radius.session_hours * 3600,
        idle_seconds=radius.interim_minutes * 60 * 3,
        clients=tuple(c.name for c in radius.clients),
        server_name=server_name(site),
        school=f"{site.school.name} ({site.school.uai})",
    )


def server_name(site: Site) -> str:
    """The RADIUS server certificate's name, e.g. radius.perrin.lan."""
    return f"radius.{site.lan.domain}"
