"""The site model: what a technician writes in site.yaml, validated once at the edge.

Use ``load_site``; everything downstream receives the frozen ``Site``."""

from appliance.site.loader import load_site, parse_site
from appliance.site.model import Site
from appliance.site.zones import Internet, Purpose, Zone

__all__ = ["Internet", "Purpose", "Site", "Zone", "load_site", "parse_site"]
