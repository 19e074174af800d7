"""Checks that span several fields of a parsed site: addressing, VLANs, zone reachability.

Each check appends every problem it finds, with its path, so one run reports them all."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import IPv4Network

from appliance.errors import Problem
from appliance.site.model import Site
from appliance.site.radius_checks import radius_problems
from appliance.site.wifi_checks import wifi_problems
from appliance.site.zones import PROTECTED_FROM, Internet, Purpose, Zone

# Opening these from a filtered zone would let traffic around the proxy or the QUIC drop.
PROXY_BYPASS = {("tcp", 80), ("tcp", 443), ("udp", 443)}


def site_problems(site: Site) -> list[Problem]:
    """Every cross-field problem of ``site``, in file order."""
    checks = (_uplink, _zones_unique, _zone_addressing, _zone_allows, _profiles, _services,
              wifi_problems, radius_problems, _portal, _storage)
    return [problem for check in checks for problem in check(site)]


def _uplink(site: Site) -> Iterator[Problem]:
    up = site.uplink
    if up.mode == "static":
        if up.address is None:
            yield Problem("uplink.address", "static uplink needs an address",
                          "give address: A.B.C.D/len, or set mode: dhcp")
        if up.gateway is None:
            yield Problem("uplink.gateway", "static uplink needs a gateway",
                          "give the next hop towards the internet")
        if up.address is not None and up.gateway is not None:
            if up.gateway not in up.address.network:
                yield Problem("uplink.gateway",
                              f"gateway {up.gateway} is outside {up.address.network}",
                              "the gateway must be on the uplink's own network")
            elif up.gateway == up.address.ip:
                yield Problem("uplink.gateway", "gateway is the appliance's own address")
    else:
        for field in ("address", "gateway"):
            if getattr(up, field) is not None:
                yield Problem(f"uplink.{field}", f"{field} is set but mode is dhcp",
                              "remove it, or set mode: static")
    names = {site.zone_ifname(z): i for i, z in enumerate(site.zones)}
    if up.interface in names or up.interface == site.lan.trunk:
        yield Problem("uplink.interface",
                      f"{up.interface} is also used on the school side",
                      "the uplink needs an interface of its own")


def _zones_unique(site: Site) -> Iterator[Problem]:
    seen_names: dict[str, int] = {}
    seen_vlans: dict[int, int] = {}
    seen_ifs: dict[str, int] = {}
    for i, zone in enumerate(site.zones):
        if zone.name in seen_names:
            yield Problem(f"zones[{i}].name", f"zone name {zone.name!r} is already used by "
                          f"zones[{seen_names[zone.name]}]", "zone names must be unique")
        seen_names.setdefault(zone.name, i)
        vlan_taken = zone.vlan in seen_vlans
        if vlan_taken:
            yield Problem(f"zones[{i}].vlan", f"VLAN {zone.vlan} is already used by "
                          f"zones[{seen_vlans[zone.vlan]}]", "each zone needs its own VLAN id")
        seen_vlans.setdefault(zone.vlan, i)
        ifname = site.zone_ifname(zone)
        if len(ifname) > 15:
            yield Problem(f"zones[{i}].interface", f"interface name {ifname!r} is longer "
                          "than 15 characters", "shorten lan.trunk or set interface:")
        # Two zones on one default trunk.VLAN interface are the VLAN problem above, told once.
        if ifname in seen_ifs and not (vlan_taken and zone.interface is None):
            yield Problem(f"zones[{i}].interface", f"interface {ifname} already carries "
                          f"zones[{seen_ifs[ifname]}]", "each zone needs an interface of its own")
        seen_ifs.setdefault(ifname, i)
    networks: list[tuple[str, IPv4Network]] = [
        (f"zones[{i}].subnet", z.subnet) for i, z in enumerate(site.zones)
    ]
    if site.uplink.address is not None:
        networks.insert(0, ("uplink.address", site.uplink.address.network))
    for j, (path, net) in enumerate(networks):
        for other_path, other in networks[:j]:
            if net.overlaps(other):
                yield Problem(path, f"{net} overlaps {other} ({other_path})",
                              "zones and the uplink need disjoint networks")


def _zone_addressing(site: Site) -> Iterator[Problem]:
    for i, zone in enumerate(site.zones):
        yield from _one_zone_addressing(f"zones[{i}]", zone)


def _one_zone_addressing(at: str, zone: Zone) -> Iterator[Problem]:
    net = zone.subnet
    if net.prefixlen > 30:
        yield Problem(f"{at}.subnet", f"{net} is too small for a zone",
                      "use a /30 or larger (a class needs at least a /26)")
        return
    usable = f"{net.network_address + 1} to {net.broadcast_address - 1}"
    gateway = zone.gateway()
    if zone.address is not None and (
        gateway not in net or gateway in (net.network_address, net.broadcast_address)
    ):
        yield Problem(f"{at}.address", f"{gateway} is not a usable address of {net}",
                      f"choose an address from {usable}")
    if zone.dhcp is None:
        return
    for end in ("start", "end"):
        addr = getattr(zone.dhcp, end)
        if addr not in net or addr in (net.network_address, net.broadcast_address):
            yield Problem(f"{at}.dhcp.{end}", f"{addr} is outside the zone's usable "
                          f"addresses ({usable})", f"the DHCP pool must lie inside {net}")
    start, stop = zone.dhcp.start, zone.dhcp.end
    if start > stop:
        yield Problem(f"{at}.dhcp", f"start {start} is after end {stop}",
                      "swap them")
    elif start <= gateway <= stop:
        yield Problem(f"{at}.dhcp", f"the pool {start}-{stop} contains the appliance's "
                      f"address {gateway}", "start the pool after the appliance's address")


def _zone_allows(site: Site) -> Iterator[Problem]:
    by_name = {z.name: z for z in site.zones}
    for i, zone in enumerate(site.zones):
        for j, allow in enumerate(zone.allow):
            at = f"zones[{i}].allow[{j}]"
            if allow.to == "internet":
                if zone.internet is Internet.NONE:
                    yield Problem(f"{at}.to", f"zone {zone.name} has internet: none",
                                  "remove this opening or change the zone's internet")
                bypass = {(allow.proto, p) for p in allow.ports} & PROXY_BYPASS
                if zone.internet is Internet.FILTERED and bypass:
                    ports = ", ".join(f"{proto}/{port}" for proto, port in sorted(bypass))
                    yield Problem(f"{at}.ports", f"{ports} would bypass the filtering "
                                  "proxy of a filtered zone (D-FIL-3)",
                                  "web traffic of filtered zones always goes through the proxy")
                continue
            target = by_name.get(allow.to)
            if target is None:
                known = ", ".join(["internet", *by_name])
                yield Problem(f"{at}.to", f"no zone named {allow.to!r}", f"use one of: {known}")
            elif target is zone:
                yield Problem(f"{at}.to", "a zone needs no opening to itself")
            elif target.purpose in PROTECTED_FROM.get(zone.purpose, set()):
                yield Problem(f"{at}.to", f"a {zone.purpose} zone may never reach the "
                              f"{target.purpose} zone {target.name} (D-NET-1)",
                              "pupils and guests never reach staff, admin or management zones")


def _profiles(site: Site) -> Iterator[Problem]:
    known = site.filtering.profiles
    for i, zone in enumerate(site.zones):
        for j, profile in enumerate(zone.profiles):
            if profile not in known:
                yield Problem(f"zones[{i}].profiles[{j}]", f"no filtering profile {profile!r}",
                              f"define it under filtering.profiles or use one of: "
                              f"{', '.join(known)}")
    for role, profile in site.directory.profiles:
        if profile not in known:
            yield Problem(f"directory.profiles.{role}", f"no filtering profile {profile!r}",
                          f"define it under filtering.profiles or use one of: {', '.join(known)}")


# Ports the appliance itself always listens on (SSH, DNS, DHCP, NTP).
RESERVED_PORTS = {22: "SSH", 53: "DNS", 67: "DHCP", 123: "NTP"}


def _services(site: Site) -> Iterator[Problem]:
    proxy = site.filtering.proxy
    ports: list[tuple[str, int]] = []
    if site.filtering.enabled:
        ports += [("filtering.proxy.port", proxy.port),
                  ("filtering.proxy.intercept_http", proxy.intercept_http),
                  ("filtering.proxy.intercept_https", proxy.intercept_https),
                  ("filtering.block_page_port", site.filtering.block_page_port)]
    if site.monitoring.enabled:
        ports.append(("monitoring.metrics_port", site.monitoring.metrics_port))
    if site.portal.enabled:
        ports.append(("portal.port", site.portal.port))
    if site.storage.enabled:
        ports.append(("storage.port", site.storage.port))
    taken: dict[int, str] = {port: f"{name} (built in)" for port, name in RESERVED_PORTS.items()}
    for path, port in ports:
        if port in taken:
            yield Problem(path, f"port {port} is already used by {taken[port]}",
                          "each service of the appliance needs its own port")
        taken.setdefault(port, path)
    for i, zone in enumerate(site.zones):
        if zone.internet is Internet.FILTERED and not zone.profiles:
            yield Problem(f"zones[{i}].profiles", "a filtered zone needs at least one profile",
                          "the first profile applies to a device before anyone logs in")
    for name, profile in site.filtering.profiles.items():
        for j, rule in enumerate(profile.time_rules):
            if rule.start >= rule.end:
                yield Problem(f"filtering.profiles.{name}.time_rules[{j}]",
                              f"the period {rule.start}-{rule.end} is empty",
                              "end must come after start (use two rules across midnight)")
        if profile.allow_only and not profile.allowed_categories:
            yield Problem(f"filtering.profiles.{name}.allowed_categories",
                          "allow_only needs the categories that stay reachable",
                          "e.g. allowed_categories: [child, liste_blanche]")
    if site.monitoring.enabled and site.monitoring.metrics_password_hash is None:
        yield Problem("monitoring.metrics_password_hash", "the metrics endpoint needs a password",
                      "make its hash with: carine monitor hash-password")
    if not site.filtering.enabled:
        for i, zone in enumerate(site.zones):
            if zone.internet is Internet.FILTERED:
                yield Problem(f"zones[{i}].internet", "filtered internet needs the filtering "
                              "proxy, but filtering.enabled is false",
                              "enable filtering, or choose internet: direct or none")


def _portal(site: Site) -> Iterator[Problem]:
    for i, zone in enumerate(site.zones):
        if zone.portal and not site.portal.enabled:
            yield Problem(f"zones[{i}].portal", f"zone {zone.name} is a portal zone but the "
                          "portal is off", "set portal.enabled: true, or remove portal: true")
        if zone.portal and zone.internet is Internet.NONE:
            yield Problem(f"zones[{i}].portal", f"zone {zone.name} has no internet: a portal "
                          "there would open nothing", "remove portal: true")
    known = site.filtering.profiles
    for name in site.portal.profiles:
        if name not in known:
            yield Problem(f"portal.profiles.{name}", f"no filtering profile {name!r}",
                          f"use one of: {', '.join(known)}")


def _storage(site: Site) -> Iterator[Problem]:
    storage = site.storage
    names = {z.name: z for z in site.zones}
    for i, name in enumerate(storage.zones):
        zone = names.get(name)
        if zone is None:
            yield Problem(f"storage.zones[{i}]", f"no zone is named {name!r}",
                          f"zones are: {', '.join(names)}")
        elif zone.purpose is Purpose.GUEST:
            yield Problem(f"storage.zones[{i}]", f"zone {name} is a guest zone: guests never "
                          "reach the school's files", "remove it from storage.zones")
    if storage.enabled and not storage.zones and not any(
            z.purpose in STORAGE_PURPOSES for z in site.zones):
        yield Problem("storage.zones", "no zone reaches the storage",
                      "name the zones under storage.zones")
    if storage.backup.enabled and storage.backup.repository is None:
        yield Problem("storage.backup.repository", "backups are on but no repository is named",
                      "give a folder (/mnt/sauvegarde/carine) or ssh://user@host/path")


# The zones that reach the storage when the site names none (never guests or management).
STORAGE_PURPOSES = (Purpose.PEDAGOGICAL, Purpose.STAFF, Purpose.ADMIN)
