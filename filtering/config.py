"""What the filtering processes (Squid helper, block page) read at start: the rendered
filtering.json — the site's filtering section and which zone, and profile, a client is in."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path
from typing import TYPE_CHECKING

from appliance import runtime
from appliance.clock import DEFAULT_ZONE
from appliance.runtime import RuntimeFile
from appliance.site.filtering import Filtering

if TYPE_CHECKING:  # the renderer's side only: the helper never builds a whole site model
    from appliance.render.layout import Layout
    from appliance.site import Site

CONFIG = "carine/filtering.json"
INDEX = "filtering/index.cidx"


@dataclass(frozen=True)
class ZoneInfo:
    """A zone as the filter sees it: where it is and which profile applies before any login."""

    name: str
    subnet: IPv4Network
    profile: str
    gateway: IPv4Address


class ZoneFile(RuntimeFile):
    name: str
    subnet: IPv4Network
    profile: str
    gateway: IPv4Address


class FilteringFile(RuntimeFile):
    """filtering.json: the model both the renderer and the filtering processes use."""

    uai: str
    domain: str
    zones: tuple[ZoneFile, ...]
    index: Path
    store: Path
    run: Path
    timezone: str = DEFAULT_ZONE
    filtering: Filtering


def render_config(site: Site, layout: Layout) -> str:
    """The JSON the filtering processes read (rendered by the Squid service)."""
    from appliance.site import Internet

    zones = tuple(ZoneFile(name=z.name, subnet=z.subnet, profile=z.profiles[0],
                           gateway=z.gateway())
                  for z in site.zones if z.internet is Internet.FILTERED and z.profiles)
    return runtime.dump(FilteringFile(
        uai=site.school.uai, domain=site.lan.domain, zones=zones, index=layout.state / INDEX,
        store=layout.state / "state.sqlite", run=layout.run, timezone=site.school.timezone,
        filtering=site.filtering))


@dataclass(frozen=True)
class FilterConfig:
    """The parsed filtering.json."""

    uai: str
    domain: str
    zones: tuple[ZoneInfo, ...]
    index: Path
    store: Path
    run: Path
    filtering: Filtering
    timezone: str = DEFAULT_ZONE  # the school's: time rules and the times pages show

    @classmethod
    def load(cls, path: Path) -> FilterConfig:
        doc = runtime.load(FilteringFile, path, "filtering")
        zones = tuple(ZoneInfo(z.name, z.subnet, z.profile, z.gateway) for z in doc.zones)
        return cls(doc.uai, doc.domain, zones, doc.index, doc.store, doc.run, doc.filtering,
                   doc.timezone)

    def zone_of(self, client: str) -> ZoneInfo | None:
        """The filtered zone ``client`` is in, or None (then no filtering profile applies)."""
        cache = _ZONE_CACHE.setdefault(id(self), {})
        if client in cache:
            return cache[client]
        try:
            address = ip_address(client)
        except ValueError:
            return None
        zone = next((z for z in self.zones if address in z.subnet), None)
        if len(cache) > 65536:  # a school has a few thousand devices: this never grows big
            cache.clear()
        cache[client] = zone
        return zone


# Per configuration, the zone of each client address seen (parsing an address costs more than
# the rest of a decision). FilterConfig is frozen, so the cache lives beside it.
_ZONE_CACHE: dict[int, dict[str, ZoneInfo | None]] = {}
