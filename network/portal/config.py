"""What the portal daemon and the `devices`/`vouchers` commands read at start: the rendered
portal.json (zones, timeouts per profile, charter, lockout, where the state lives)."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path

from appliance import runtime
from appliance.clock import DEFAULT_ZONE
from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.runtime import RuntimeFile
from appliance.site import Site
from network.portal.rules import api_url, idle_classes, idle_set, portal_url, portal_zones

CONFIG = "carine/portal.json"
DEFAULT_CHARTER = Path(__file__).resolve().parent / "charte.txt"


class ZoneFile(RuntimeFile):
    name: str
    subnet: IPv4Network
    ifname: str
    profiles: tuple[str, ...]


class LockoutFile(RuntimeFile):
    attempts: int
    minutes: int


class PortalFile(RuntimeFile):
    """portal.json: the model both the renderer and the portal processes use."""

    uai: str
    school: str
    domain: str
    port: int
    url: str
    api_url: str
    zones: tuple[ZoneFile, ...]
    limits: dict[str, tuple[int, int]]
    """Profile -> (idle seconds, lifetime seconds)."""
    default_limits: tuple[int, int]
    idle_sets: dict[int, str]
    """Idle minutes -> the nftables set whose timeout refreshes sessions of that class."""
    charter_version: str
    charter_file: Path | None
    lockout: LockoutFile
    attempts_per_minute: int
    store: Path
    journal: Path
    leases: Path
    state: Path
    run: Path
    timezone: str = DEFAULT_ZONE


def render_config(site: Site, layout: Layout) -> str:
    """The JSON the portal processes read (rendered by the portal service)."""
    portal = site.portal
    zones = tuple(ZoneFile(name=z.name, subnet=z.subnet, ifname=site.zone_ifname(z),
                           profiles=tuple(z.profiles)) for z in portal_zones(site))
    return runtime.dump(PortalFile(
        uai=site.school.uai, school=site.school.name, domain=site.lan.domain, port=portal.port,
        url=portal_url(site), api_url=api_url(site), zones=zones,
        limits={name: portal.limits(name) for name in site.filtering.profiles},
        default_limits=portal.limits(""),
        idle_sets={m: idle_set(m) for m in idle_classes(site)},
        charter_version=portal.charter_version, charter_file=portal.charter_file,
        lockout=LockoutFile(attempts=portal.lockout.attempts, minutes=portal.lockout.minutes),
        attempts_per_minute=portal.attempts_per_minute, store=layout.state / "state.sqlite",
        journal=layout.state / "journal", leases=layout.state / "dnsmasq.leases",
        state=layout.state / "portal", run=layout.run, timezone=site.school.timezone))


@dataclass(frozen=True)
class PortalZone:
    name: str
    subnet: IPv4Network
    ifname: str
    profiles: tuple[str, ...]


@dataclass(frozen=True)
class PortalConfig:
    """The parsed portal.json."""

    uai: str
    school: str
    domain: str
    port: int
    url: str
    api_url: str
    zones: tuple[PortalZone, ...]
    limits: dict[str, tuple[int, int]]
    default_limits: tuple[int, int]
    idle_sets: dict[int, str]
    charter_version: str
    charter_file: Path | None
    lockout_attempts: int
    lockout_minutes: int
    attempts_per_minute: int
    store: Path
    journal: Path
    leases: Path
    state: Path
    run: Path
    timezone: str = DEFAULT_ZONE  # the school's: the times the pages show

    @classmethod
    def load(cls, path: Path) -> PortalConfig:
        d = runtime.load(PortalFile, path, "portal")
        zones = tuple(PortalZone(z.name, z.subnet, z.ifname, z.profiles) for z in d.zones)
        return cls(d.uai, d.school, d.domain, d.port, d.url, d.api_url, zones, dict(d.limits),
                   d.default_limits, dict(d.idle_sets), d.charter_version, d.charter_file,
                   d.lockout.attempts, d.lockout.minutes, d.attempts_per_minute, d.store,
                   d.journal, d.leases, d.state, d.run, d.timezone)

    def zone_of(self, client: str) -> PortalZone | None:
        """The portal zone ``client`` is in, or None."""
        try:
            address = ip_address(client)
        except ValueError:
            return None
        if not isinstance(address, IPv4Address):
            return None
        return next((z for z in self.zones if address in z.subnet), None)

    def limits_of(self, profile: str) -> tuple[int, int]:
        """(idle seconds, lifetime seconds) of a session of ``profile``."""
        return self.limits.get(profile, self.default_limits)

    def idle_set_of(self, profile: str) -> str | None:
        """The kernel refresh class of ``profile``'s sessions."""
        return self.idle_sets.get(self.limits_of(profile)[0] // 60)

    def charter_text(self) -> str:
        """The usage charter shown at first login: the school's file, else CARINE's."""
        path = self.charter_file or DEFAULT_CHARTER
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise CarineError(f"cannot read the charter {path}: {exc}",
                              "check portal.charter_file in the site file") from exc
