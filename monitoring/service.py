"""The monitoring service's part of the pipeline: the exporter's configuration and its opening,
from the managing zones and, through the uplink, from the académie's Prometheus only."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.site import Site
from monitoring.probes import config as probes

CONFIG = "carine/monitoring.json"


def render_config(site: Site, layout: Layout) -> str:
    """What the exporter and the prober read at start (the password is only there as its
    argon2 hash)."""
    mon = site.monitoring
    doc = {
        "uai": site.school.uai, "port": mon.metrics_port, "user": mon.metrics_user,
        "password_hash": mon.metrics_password_hash, "state": str(layout.state),
        "run": str(layout.run), "log": str(layout.log),
        "manifest": str(layout.etc("carine/rendered.json")),
        "daemons": ["dnsmasq", "squid", "chronyd", "prober"] if site.filtering.enabled
        else ["dnsmasq", "chronyd", "prober"],
        "probes": probes.render(site, layout),
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


class MonitoringService:
    """The exporter of the appliance's metrics."""

    name = "monitoring"

    def openings(self, site: Site) -> Sequence[Contribution]:
        mon = site.monitoring
        if not mon.enabled:
            return ()
        managing = tuple(z.name for z in site.zones if z.is_managing())
        return [Opening(self.name, "tcp", (mon.metrics_port,), managing, "metrics (D-SUP-2)",
                        uplink_sources=mon.scrapers)]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        if not ctx.site.monitoring.enabled:
            return {}
        return {ctx.layout.etc(CONFIG): render_config(ctx.site, ctx.layout)}

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        return []  # JSON we wrote ourselves; the exporter validates it at start


service = MonitoringService()
