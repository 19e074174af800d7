"""The nftables renderer: the one place where the appliance's firewall is composed.

Default-deny between zones (D-NET-1), NAT on the uplink, proxy redirection and QUIC drop for
filtered zones (D-FIL-3), every service's declared openings, the named sets the runtime fills."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, Redirect, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.render.units import Reload, Unit
from appliance.run import run
from appliance.site import Internet, Site, Zone
from network.portal.rules import gate

TEMPLATES = environment("network")
CONFIG = "nftables.conf"


@dataclass(frozen=True)
class Chain:
    """A base chain of the table: its hook (named like the chain), priority and policy."""

    name: str
    kind: str
    priority: str
    policy: str


CHAINS = (
    Chain("input", "filter", "filter", "drop"),
    Chain("forward", "filter", "filter", "drop"),
    Chain("output", "filter", "filter", "accept"),
    Chain("prerouting", "nat", "dstnat", "accept"),
    Chain("postrouting", "nat", "srcnat", "accept"),
)


@dataclass(frozen=True)
class Rule:
    """One accept rule, already in nft syntax, with the reason it exists."""

    match: str
    comment: str


def _ifset(names: Sequence[str]) -> str:
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else "{ " + ", ".join(quoted) + " }"


def _ports(ports: Sequence[int]) -> str:
    return str(ports[0]) if len(ports) == 1 else "{ " + ", ".join(map(str, ports)) + " }"


def input_rules(site: Site, contributions: Sequence[Contribution]) -> list[Rule]:
    """Accept rules into the appliance: each declared opening (and each redirection's local
    port), from its zones only."""
    rules = []
    for op in contributions:
        ifs = [site.zone_ifname(site.zone(z)) for z in op.zones]
        ports = op.ports if isinstance(op, Opening) else (op.to_port,)
        if ifs:
            rules.append(Rule(f"iifname {_ifset(ifs)} {op.proto} dport {_ports(ports)}",
                              f"{op.service}: {op.comment}"))
        if isinstance(op, Opening) and op.uplink_sources:
            sources = "{ " + ", ".join(map(str, op.uplink_sources)) + " }"
            rules.append(Rule(f'iifname "{site.uplink.interface}" ip saddr {sources} '
                              f"{op.proto} dport {_ports(ports)}",
                              f"{op.service}: {op.comment}, from the uplink"))
    return rules


def redirect_rules(site: Site, contributions: Sequence[Contribution]) -> list[Rule]:
    """Redirections (prerouting): traffic a service takes over, from its zones only."""
    # Web between school zones is routed as the zones' openings say, never taken over.
    school = "{ " + ", ".join(str(z.subnet) for z in site.zones) + " }"
    rules = []
    for red in (c for c in contributions if isinstance(c, Redirect)):
        ifs = [site.zone_ifname(site.zone(z)) for z in red.zones]
        if not ifs:
            continue
        where = f"ip daddr != {school} fib daddr type != local " if red.beyond_school else ""
        rules.append(Rule(f"iifname {_ifset(ifs)} {where}{red.proto} dport {red.port} "
                          f"redirect to :{red.to_port}", f"{red.service}: {red.comment}"))
    return rules


def forward_rules(site: Site) -> list[Rule]:
    """Accept rules through the appliance: to the internet, and the zone-to-zone openings."""
    up = site.uplink.interface
    rules = []
    for zone in site.zones:
        src = _ifset([site.zone_ifname(zone)])
        if zone.internet is Internet.DIRECT:
            rules.append(Rule(f"iifname {src} oifname \"{up}\"",
                              f"{zone.name}: direct internet"))
        for allow in zone.allow:
            if allow.to == "internet":
                match = f"iifname {src} oifname \"{up}\""
            else:
                target = site.zone(allow.to)
                match = (f"iifname {src} oifname {_ifset([site.zone_ifname(target)])} "
                         f"ip daddr {target.subnet}")
            reason = allow.comment or f"opening to {allow.to}"
            rules.append(Rule(f"{match} {allow.proto} dport {_ports(allow.ports)}",
                              f"{zone.name}: {reason}"))
    return rules


def filtered_zones(site: Site) -> list[Zone]:
    """Zones whose web traffic must go through the proxy."""
    return [z for z in site.zones if z.internet is Internet.FILTERED]


def ruleset(ctx: RenderContext) -> str:
    """The whole ruleset text for ``ctx.site``."""
    site = ctx.site
    filtered = [site.zone_ifname(z) for z in filtered_zones(site)]
    up = site.uplink
    snat = str(up.address.ip) if up.mode == "static" and up.address is not None else None
    return render(
        TEMPLATES, "nftables.conf.j2",
        header=HEADER.format(uai=site.school.uai),
        site=site,
        chains=CHAINS,
        zone_ifs=[site.zone_ifname(z) for z in site.zones],
        input_rules=input_rules(site, ctx.openings),
        forward_rules=forward_rules(site),
        redirect_rules=redirect_rules(site, ctx.openings),
        filtered=_ifset(filtered) if filtered else None,
        snat=snat,
        gate=gate(site),
    )


class NftablesService:
    """Composes the ruleset; declares no opening of its own."""

    name = "nftables"

    def openings(self, site: Site) -> Sequence[Contribution]:
        return ()

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        return {ctx.layout.etc(CONFIG): ruleset(ctx)}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        # Loaded once before the daemons; reloading is loading again (the file flushes first).
        load = ("/usr/sbin/nft", "-f", str(layout.etc(CONFIG)))
        return [Unit("nftables", "CARINE firewall, NAT and portal gate (nftables)", load,
                     reads=(layout.etc(CONFIG),), capabilities=("CAP_NET_ADMIN",),
                     address_families=("AF_UNIX", "AF_NETLINK"), kind="oneshot",
                     reload=Reload("command", argv=load))]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = layout.etc(CONFIG)
        result = run(["nft", "-c", "-f", str(path)], check=False)
        return [CheckResult(self.name, f"nft -c -f {path}", result.ok, result.output())]


service = NftablesService()
