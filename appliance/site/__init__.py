"""The site model: what a technician writes in site.yaml, validated once at the edge.

Use ``load_site``; everything downstream receives the frozen ``Site``.

The names below are imported on first use (PEP 562): a process that needs one section only
(the filtering helper reads ``appliance.site.filtering``) does not build every model (~16 MiB
resident per helper process)."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.site.loader import load_site, parse_site
    from appliance.site.model import Site
    from appliance.site.zones import Internet, Purpose, Zone

__all__ = ["Internet", "Purpose", "Site", "Zone", "load_site", "parse_site"]
_HOMES = {"load_site": "loader", "parse_site": "loader", "Site": "model", "Internet": "zones",
          "Purpose": "zones", "Zone": "zones"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"appliance.site.{home}"), name)
    globals()[name] = value  # once: later lookups are plain attribute reads
    return value
