"""The portal's contribution to the pipeline: its port opened from the portal zones, and the
portal.json its processes read. The gate itself is composed by the nftables renderer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.units import Health, Unit
from appliance.site import Site
from network.portal.config import CONFIG, PortalConfig, render_config
from network.portal.rules import portal_zones


class PortalService:
    name = "portal"

    def openings(self, site: Site) -> Sequence[Contribution]:
        zones = tuple(z.name for z in portal_zones(site))
        if not zones:
            return ()
        return [Opening(self.name, "tcp", (site.portal.port,), zones,
                        "captive portal and its API (RFC 8908)")]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        if not portal_zones(ctx.site):
            return {}
        return {ctx.layout.etc(CONFIG): render_config(ctx.site, ctx.layout)}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        # CAP_NET_ADMIN: it adds and removes authorised clients in the nft sets.
        if not portal_zones(site) or not site.portal.enabled:
            return []
        conf = layout.etc(CONFIG)
        return [Unit("portal", "CARINE captive portal and its API (RFC 8908)",
                     (str(layout.programs / "carine-portal"), "--config", str(conf)),
                     reads=(conf,), state_dirs=(layout.state,), capabilities=("CAP_NET_ADMIN",),
                     address_families=("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"),
                     after=("nftables",), health=Health("tcp", port=site.portal.port))]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = layout.etc(CONFIG)
        if not path.exists():
            return []
        config = PortalConfig.load(path)  # raises with the reason when it cannot be read
        config.charter_text()
        return [CheckResult(self.name, f"load {path} and its charter", True,
                            f"{len(config.zones)} portal zone(s)")]


service = PortalService()
