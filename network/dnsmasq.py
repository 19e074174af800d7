"""The dnsmasq renderer: DHCP per zone and the caching resolver of the school (D-NET-3).

DNS-level filtering and SafeSearch entries are not ours: the filtering service drops its files
into the hook directory this configuration reads (``etc/carine/dnsmasq.d``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.run import run
from appliance.site import Site
from network.portal.rules import api_url, portal_zones

TEMPLATES = environment("network")
CONFIG = "carine/dnsmasq.conf"
HOOK_DIR = "carine/dnsmasq.d"


class DnsmasqService:
    """DHCP pools and the caching resolver on every zone interface."""

    name = "dnsmasq"

    def openings(self, site: Site) -> Sequence[Contribution]:
        every = tuple(z.name for z in site.zones)
        with_dhcp = tuple(z.name for z in site.zones if z.dhcp is not None)
        out = [
            Opening(self.name, "udp", (53,), every, "DNS"),
            Opening(self.name, "tcp", (53,), every, "DNS over TCP"),
        ]
        if with_dhcp:
            out.append(Opening(self.name, "udp", (67,), with_dhcp, "DHCP"))
        return out

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        site, layout = ctx.site, ctx.layout
        gated = {z.name for z in portal_zones(site)}
        zones = [
            {"zone": z, "ifname": site.zone_ifname(z), "gateway": z.gateway(),
             "netmask": z.subnet.netmask,
             "captive": api_url(site) if z.name in gated else None}
            for z in site.zones
        ]
        text = render(
            TEMPLATES, "dnsmasq.conf.j2",
            header=HEADER.format(uai=site.school.uai), site=site, zones=zones,
            leasefile=layout.state / "dnsmasq.leases", pidfile=layout.run / "dnsmasq.pid",
            hook_dir=layout.etc(HOOK_DIR),
        )
        return {layout.etc(CONFIG): text}

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = layout.etc(CONFIG)
        result = run(["dnsmasq", "--test", f"--conf-file={path}"], check=False)
        return [CheckResult(self.name, f"dnsmasq --test --conf-file={path}", result.ok,
                            result.output())]


service = DnsmasqService()
