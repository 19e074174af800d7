"""What the filtering processes (Squid helper, block page) read at start: the rendered
filtering.json — the site's filtering section and which zone, and profile, a client is in."""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from appliance.errors import CarineError
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


def render_config(site: Site, layout: Layout) -> str:
    """The JSON the filtering processes read (rendered by the Squid service)."""
    from appliance.site import Internet

    zones = [{"name": z.name, "subnet": str(z.subnet), "profile": z.profiles[0],
              "gateway": str(z.gateway())}
             for z in site.zones if z.internet is Internet.FILTERED and z.profiles]
    doc = {"uai": site.school.uai, "domain": site.lan.domain, "zones": zones,
           "index": str(layout.state / INDEX), "store": str(layout.state / "state.sqlite"),
           "run": str(layout.run),
           "filtering": site.filtering.model_dump(mode="json")}
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


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

    @classmethod
    def load(cls, path: Path) -> FilterConfig:
        try:
            doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            zones = tuple(ZoneInfo(z["name"], IPv4Network(z["subnet"]), z["profile"],
                                   IPv4Address(z["gateway"])) for z in doc["zones"])
            return cls(doc["uai"], doc["domain"], zones, Path(doc["index"]), Path(doc["store"]),
                       Path(doc["run"]), Filtering.model_validate(doc["filtering"]))
        except (OSError, ValueError, KeyError, ValidationError) as exc:
            raise CarineError(f"cannot read the filtering configuration {path}: {exc}",
                              "render the site again (carine render)") from exc

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
