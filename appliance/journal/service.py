"""The journal's part of the pipeline: ``etc/carine/journal.json``, what the journal daemon and
``carine journal`` read (folder, retention, Squid's log, the uplink for NAT, the collector)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, RenderContext
from appliance.site import Site

CONFIG = "carine/journal.json"


def render_config(site: Site, layout: Layout) -> str:
    settings = site.journal
    syslog = settings.syslog
    doc: dict[str, Any] = {
        "root": str(layout.state / "journal"),
        "state": str(layout.state / "journal-ingest"),
        "school": f"{site.school.name} ({site.school.uai})",
        "timezone": site.school.timezone,
        "retention": settings.retention.model_dump(),
        "squid_log": str(layout.log / "squid/access.log") if site.filtering.enabled else None,
        "uplink": site.uplink.interface,
        "syslog": None if syslog is None else {
            "host": syslog.host, "port": syslog.port, "ca_file": str(syslog.ca_file),
            "kinds": list(syslog.kinds)},
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


class JournalService:
    """The legal journal: nothing listens; the config tells its daemon where everything is."""

    name = "journal"

    def openings(self, site: Site) -> Sequence[Contribution]:
        return []

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        return {ctx.layout.etc(CONFIG): render_config(ctx.site, ctx.layout)}

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        return []  # JSON we wrote ourselves from a validated site


service = JournalService()
