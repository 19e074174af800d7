"""What the portal daemon and the `devices`/`vouchers` commands read at start: the rendered
portal.json (zones, timeouts per profile, charter, lockout, where the state lives)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path
from typing import Any

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.site import Site
from network.portal.rules import api_url, idle_classes, idle_set, portal_url, portal_zones

CONFIG = "carine/portal.json"
DEFAULT_CHARTER = Path(__file__).resolve().parent / "charte.txt"


def render_config(site: Site, layout: Layout) -> str:
    """The JSON the portal processes read (rendered by the portal service)."""
    portal = site.portal
    zones = [{"name": z.name, "subnet": str(z.subnet), "ifname": site.zone_ifname(z),
              "profiles": list(z.profiles)} for z in portal_zones(site)]
    limits = {name: list(portal.limits(name)) for name in site.filtering.profiles}
    doc = {
        "uai": site.school.uai, "school": site.school.name, "domain": site.lan.domain,
        "port": portal.port, "url": portal_url(site), "api_url": api_url(site), "zones": zones,
        "limits": limits, "default_limits": list(portal.limits("")),
        "idle_sets": {str(m): idle_set(m) for m in idle_classes(site)},
        "charter_version": portal.charter_version,
        "charter_file": str(portal.charter_file) if portal.charter_file else None,
        "lockout": portal.lockout.model_dump(), "attempts_per_minute": portal.attempts_per_minute,
        "store": str(layout.state / "state.sqlite"), "journal": str(layout.state / "journal"),
        "leases": str(layout.state / "dnsmasq.leases"), "state": str(layout.state / "portal"),
        "run": str(layout.run),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


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

    @classmethod
    def load(cls, path: Path) -> PortalConfig:
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            zones = tuple(PortalZone(z["name"], IPv4Network(z["subnet"]), z["ifname"],
                                     tuple(z["profiles"])) for z in doc["zones"])
            return cls(
                doc["uai"], doc["school"], doc["domain"], int(doc["port"]), doc["url"],
                doc["api_url"], zones,
                {k: (int(v[0]), int(v[1])) for k, v in doc["limits"].items()},
                (int(doc["default_limits"][0]), int(doc["default_limits"][1])),
                {int(k): str(v) for k, v in doc["idle_sets"].items()},
                doc["charter_version"],
                Path(doc["charter_file"]) if doc["charter_file"] else None,
                int(doc["lockout"]["attempts"]), int(doc["lockout"]["minutes"]),
                int(doc["attempts_per_minute"]), Path(doc["store"]), Path(doc["journal"]),
                Path(doc["leases"]), Path(doc["state"]), Path(doc["run"]))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise CarineError(f"cannot read the portal configuration {path}: {exc}",
                              "render the site again (carine render)") from exc

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
