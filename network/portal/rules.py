"""The portal's part of the firewall, as pure functions of the site: which zones are gated, the
idle-timeout sets, and the rules the nftables renderer places in its chains."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.site import Site, Zone

AUTHORISED = "authorised"


def portal_zones(site: Site) -> list[Zone]:
    """Zones whose clients must authenticate first (empty when the portal is off)."""
    return [z for z in site.zones if z.portal] if site.portal.enabled else []


def portal_url(site: Site) -> str:
    """Where clients reach the portal: the appliance's name resolves to its address in each
    zone (dnsmasq's interface-name)."""
    return f"http://carine.{site.lan.domain}:{site.portal.port}/"


def api_url(site: Site) -> str:
    """The RFC 8908 captive-portal API, announced by DHCP option 114 (RFC 8910)."""
    return portal_url(site) + "api/captive"


def idle_set(minutes: int) -> str:
    """The set of the sessions whose idle timeout is ``minutes`` (their kernel refresh class)."""
    return f"portal_idle_{minutes}"


def idle_classes(site: Site) -> list[int]:
    """Every idle timeout (minutes) a portal session may have, default and per profile."""
    portal = site.portal
    found = {portal.idle_timeout_minutes}
    found |= {p.idle_timeout_minutes for p in portal.profiles.values() if p.idle_timeout_minutes}
    return sorted(found)


@dataclass(frozen=True)
class Gate:
    """Rule texts (nft syntax, comment included) for each chain, and the extra sets."""

    sets: tuple[str, ...]
    gate: tuple[str, ...]
    input: tuple[str, ...]
    forward: tuple[str, ...]
    prerouting: tuple[str, ...]


def _ifs(site: Site, zones: list[Zone]) -> str:
    names = [f'"{site.zone_ifname(z)}"' for z in zones]
    return names[0] if len(names) == 1 else "{ " + ", ".join(names) + " }"


def gate(site: Site) -> Gate | None:
    """The gate of the portal zones, or None when no zone is gated."""
    zones = portal_zones(site)
    if not zones:
        return None
    ifs = _ifs(site, zones)
    unknown = f"iifname {ifs} ip saddr != @{AUTHORISED}"
    school = "{ " + ", ".join(str(z.subnet) for z in site.zones) + " }"
    port = site.portal.port
    # Idleness is tracked by the kernel: every packet of an authorised client of a class pushes
    # its element's expiry back by the class's timeout. The membership test comes first, so a
    # client whose element expired is never put back by its own traffic.
    refresh = tuple(
        f"iifname {ifs} ip saddr @{AUTHORISED} ip saddr @{idle_set(m)} "
        f"update @{AUTHORISED} {{ ip saddr timeout {m}m }} "
        f'comment "portal: activity keeps a session of {m} min idle timeout alive (D-AUT-3)"'
        for m in idle_classes(site))
    proxy = site.filtering.proxy
    appliance_ports = sorted({proxy.port, proxy.intercept_http, proxy.intercept_https,
                              site.filtering.block_page_port} if site.filtering.enabled else set())
    inputs: tuple[str, ...] = ()
    if appliance_ports:
        ports = "{ " + ", ".join(map(str, appliance_ports)) + " }"
        inputs = (f"{unknown} tcp dport {ports} reject with tcp reset "
                  'comment "portal: no proxy before login (also cuts a logged-out client)"',)
    forward = (
        f'{unknown} tcp dport 443 reject with tcp reset comment "portal: HTTPS refused at once '
        'before login"',
        f'{unknown} counter drop comment "portal: nothing else before login"',
    )
    prerouting = (
        f"{unknown} ip daddr != {school} fib daddr type != local tcp dport 80 redirect to :{port} "
        'comment "portal: web before login goes to the portal"',
        f'{unknown} tcp dport 443 accept comment "portal: not to the proxy before login (refused '
        'in forward)"',
    )
    sets = tuple(idle_set(m) for m in idle_classes(site))
    return Gate(sets, refresh, inputs, forward, prerouting)
