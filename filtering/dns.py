"""DNS-level filtering (D-FIL-3, D-FIL-4): a small dnsmasq "view" per kind of filtered zone,
forcing SafeSearch by CNAME and refusing circumvention names, in front of the main resolver.

Every DNS query from a filtered zone (to the appliance or to any resolver outside) is redirected
to its zone's view, so changing resolver on a device changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Redirect, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.render.units import Health, Unit
from appliance.run import run
from appliance.site import Internet, Site
from appliance.site.filtering import Audience

TEMPLATES = environment("filtering")
BASE_PORT = 5400
VIEWS_DIR = "carine/dns-views"
# Derived from the index at each update and at boot, read by dnsmasq after it drops to nobody:
# runtime files, in the world-readable run folder (the state folder is closed to others).
SAFESEARCH_HOSTS = "dns/safesearch.hosts"
BLOCKED_SERVERS = "dns/refused.servers"

# D-FIL-4: names rewritten to each engine's SafeSearch host.
GOOGLE_TLDS = ("com", "fr", "be", "ch", "ca", "de", "es", "it", "co.uk", "lu", "re", "gp", "mq",
               "nc", "pf")
GOOGLE = (*(f"www.google.{tld}" for tld in GOOGLE_TLDS), "google.com", "google.fr")
YOUTUBE = ("www.youtube.com", "m.youtube.com", "youtubei.googleapis.com",
           "youtube.googleapis.com", "www.youtube-nocookie.com")
BING = ("www.bing.com", "bing.com")
DUCKDUCKGO = ("duckduckgo.com", "www.duckduckgo.com")
TARGETS = {
    "google": "forcesafesearch.google.com",
    "youtube-strict": "restrict.youtube.com",
    "youtube-moderate": "restrictmoderate.youtube.com",
    "bing": "strict.bing.com",
    "duckduckgo": "safe.duckduckgo.com",
}


@dataclass(frozen=True)
class View:
    """One DNS policy: which zones use it, SafeSearch and whether circumvention is refused."""

    name: str
    port: int
    zones: tuple[str, ...]
    safesearch: bool
    youtube: str
    block: bool

    def rewrites(self) -> list[tuple[str, str]]:
        """(name, SafeSearch host) pairs, as dnsmasq cname lines take them."""
        if not self.safesearch:
            return []
        pairs = [(n, TARGETS["google"]) for n in GOOGLE]
        pairs += [(n, TARGETS[f"youtube-{self.youtube}"]) for n in YOUTUBE]
        pairs += [(n, TARGETS["bing"]) for n in BING]
        pairs += [(n, TARGETS["duckduckgo"]) for n in DUCKDUCKGO]
        return pairs


def views(site: Site) -> list[View]:
    """The views a site needs: filtered zones grouped by their first profile's DNS policy."""
    groups: dict[tuple[bool, str, bool], list[str]] = {}
    for zone in site.zones:
        if zone.internet is not Internet.FILTERED or not zone.profiles:
            continue
        profile = site.filtering.profiles[zone.profiles[0]]
        minor = profile.audience is not Audience.STAFF
        key = (profile.safesearch, "strict" if minor else "moderate", minor)
        if key != (False, "moderate", False):  # an unfiltered view would be the main resolver
            groups.setdefault(key, []).append(zone.name)
    out = []
    for i, ((safe, youtube, block), zones) in enumerate(sorted(groups.items())):
        name = ("block-" if block else "") + ("safe" if safe else "plain")
        out.append(View(name, BASE_PORT + i, tuple(zones), safe, youtube, block))
    return out


class DnsFilterService:
    """Renders the views and takes over DNS from the zones they serve."""

    name = "dnsfilter"

    def openings(self, site: Site) -> Sequence[Contribution]:
        if not site.filtering.enabled:
            return ()
        out: list[Contribution] = []
        for view in views(site):
            for proto in ("udp", "tcp"):
                out.append(Redirect(self.name, proto, 53, view.port, view.zones,
                                    f"DNS through the {view.name} view (D-FIL-4)"))
        return out

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        site, layout = ctx.site, ctx.layout
        if not site.filtering.enabled:
            return {}
        header = HEADER.format(uai=site.school.uai)
        return {
            layout.etc(f"{VIEWS_DIR}/{view.name}.conf"): render(
                TEMPLATES, "dns-view.conf.j2", header=header, view=view,
                ifnames=[site.zone_ifname(site.zone(z)) for z in view.zones],
                pidfile=layout.run / f"dns-{view.name}.pid",
                hosts=layout.run / SAFESEARCH_HOSTS, servers=layout.run / BLOCKED_SERVERS)
            for view in views(site)
        }

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        """One dnsmasq per view; it drops to nobody after binding, reads the run folder."""
        if not site.filtering.enabled:
            return []
        out = []
        for view in views(site):
            conf = layout.etc(f"{VIEWS_DIR}/{view.name}.conf")
            out.append(Unit(
                f"dns-{view.name}", f"CARINE DNS view {view.name} (SafeSearch, refused names)",
                ("/usr/sbin/dnsmasq", "-k", "-C", str(conf),
                 f"--log-facility={layout.log}/dns-{view.name}.log"),
                reads=(conf, layout.run / "dns"), state_dirs=(layout.run, layout.log),
                capabilities=("CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETUID",
                              "CAP_SETGID"),
                address_families=("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"),
                system_calls=("@privileged",), after=("nftables", "dnsmasq", "lists-update"),
                health=Health("tcp", port=view.port, udp=True)))
        return out

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        results = []
        for conf in sorted(layout.etc(VIEWS_DIR).glob("*.conf")):
            result = run(["dnsmasq", "--test", f"--conf-file={conf}"], check=False)
            results.append(CheckResult(self.name, f"dnsmasq --test --conf-file={conf}",
                                       result.ok, result.output()))
        return results


service = DnsFilterService()
