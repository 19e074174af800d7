"""The dnsmasq renderer: DHCP per zone and the caching resolver of the school (D-NET-3).

DNS-level filtering and SafeSearch entries are not ours: the filtering service drops its files
into the hook directory this configuration reads (``etc/carine/dnsmasq.d``). With RADIUS on,
each lease runs ``carine-lease-hook``: it opens the 802.1X sessions that waited for an address."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.render.units import Health, Unit
from appliance.run import run
from appliance.site import Site
from network.portal.rules import api_url, portal_zones
from network.radius.leasehook import PROGRAM as LEASE_HOOK
from network.radius.leasehook import SETTINGS_ENV
from network.radius.paths import CONFIG_DIR as RADIUS_DIR

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
            lease_hook=layout.programs / LEASE_HOOK if site.radius.enabled else None,
        )
        return {layout.etc(CONFIG): text}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        # Root at start (DHCP's raw socket, port 53), then dnsmasq drops to its own account;
        # its lease hook stays root and writes the sessions and the journal (state folder).
        reads: tuple[Path, ...] = (layout.etc(CONFIG), layout.etc(HOOK_DIR))
        writes: tuple[Path, ...] = (layout.run,)
        env: tuple[tuple[str, str], ...] = ()
        if site.radius.enabled:
            settings = layout.etc(RADIUS_DIR) / "carine.json"
            reads, writes = (*reads, settings), (*writes, layout.state)
            env = ((SETTINGS_ENV, str(settings)),)
        return [Unit(
            "dnsmasq", "CARINE DHCP and DNS for the zones (dnsmasq)",
            ("/usr/sbin/dnsmasq", "-k", f"--conf-file={layout.etc(CONFIG)}", "--log-facility=-",
             "--log-dhcp"),
            reads=reads, state_dirs=writes, state_files=(layout.state / "dnsmasq.leases",),
            environment=env,
            capabilities=("CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SETUID",
                          "CAP_SETGID"),
            address_families=("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"),
            system_calls=("@privileged",), after=("nftables",),
            health=Health("tcp", port=53, host=str(site.zones[0].gateway())))]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = layout.etc(CONFIG)
        result = run(["dnsmasq", "--test", f"--conf-file={path}"], check=False)
        return [CheckResult(self.name, f"dnsmasq --test --conf-file={path}", result.ok,
                            result.output())]


service = DnsmasqService()
