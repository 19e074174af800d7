"""The Wi-Fi's part of the pipeline: the radio scheduler, which switches access points' radios
on and off by the site's weekly schedules. It renders nothing (the APs' files are per AP)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, RenderContext
from appliance.render.units import Unit
from appliance.site import Site


class WifiService:
    name = "wifi"

    def openings(self, site: Site) -> Sequence[Contribution]:
        return []

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        return {}

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        return []

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        if not site.wifi.access_points:
            return []
        return [Unit("scheduler", "CARINE Wi-Fi radio scheduler (weekly schedules)",
                     (str(layout.programs / "carine"), "wifi", "scheduler", "--site",
                      str(layout.etc("carine/site.yaml")), "--state", str(layout.state),
                      "--journal-config", str(layout.etc("carine/journal.json"))),
                     reads=(layout.etc("carine/site.yaml"),), state_dirs=(layout.state,),
                     after=("freeradius",))]


service = WifiService()
