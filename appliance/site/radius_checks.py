"""Checks of the radius section against the rest of the site: clients inside a management zone,
profiles and zones of the VLAN map, ports free (D-WIF-1, D-WIF-2)."""

from __future__ import annotations

from collections.abc import Iterator

from appliance.errors import Problem
from appliance.site.model import Site
from appliance.site.zones import Purpose


def radius_problems(site: Site) -> Iterator[Problem]:
    """Every problem of ``site.radius`` (none when RADIUS is off and nothing is configured)."""
    radius = site.radius
    managed = [z for z in site.zones if z.purpose is Purpose.MANAGEMENT]
    names: dict[str, int] = {}
    for i, client in enumerate(radius.clients):
        at = f"radius.clients[{i}]"
        if client.name in names:
            yield Problem(f"{at}.name", f"client name {client.name!r} is already used by "
                          f"radius.clients[{names[client.name]}]", "client names must be unique")
        names.setdefault(client.name, i)
        if client.name == "local":
            yield Problem(f"{at}.name", "'local' is reserved for the appliance's own client",
                          "choose another name")
        if (client.address is None) == (client.network is None):
            yield Problem(at, "give either address (one device) or network (several)",
                          "e.g. address: 10.99.0.11 or network: 10.99.0.0/26")
            continue
        where = client.network if client.network is not None else client.address
        inside = [z for z in managed if (
            client.network.subnet_of(z.subnet) if client.network is not None
            else client.address in z.subnet)]
        if not inside:
            zones = ", ".join(f"{z.name} ({z.subnet})" for z in managed) or "none defined"
            yield Problem(f"{at}.{'network' if client.network is not None else 'address'}",
                          f"{where} is not inside a management zone",
                          f"access points and switches are managed from: {zones}")
    yield from _vlans(site)
    if radius.enabled:
        ports = {radius.auth_port: "radius.auth_port", radius.acct_port: "radius.acct_port"}
        if radius.auth_port == radius.acct_port:
            yield Problem("radius.acct_port", "accounting needs its own port",
                          "the usual pair is 1812 and 1813")
        for port in ports:
            if port in (22, 53, 67, 123):
                yield Problem(ports[port], f"port {port} is already used by the appliance")
        if not radius.clients:
            yield Problem("radius.clients", "RADIUS is enabled but has no client",
                          "list the access points and switches that will ask it")


def _vlans(site: Site) -> Iterator[Problem]:
    profiles = site.filtering.profiles
    zones = {z.name: z for z in site.zones}
    for profile, zone in site.radius.profile_zones.items():
        at = f"radius.profile_zones.{profile}"
        if profile not in profiles:
            yield Problem(at, f"no filtering profile {profile!r}",
                          f"use one of: {', '.join(profiles)}")
        if zone not in zones:
            yield Problem(at, f"no zone named {zone!r}", f"use one of: {', '.join(zones)}")
        elif zones[zone].purpose is Purpose.MANAGEMENT:
            yield Problem(at, f"users may not be put in the management zone {zone}",
                          "choose the zone where that profile's users belong")
        elif zones[zone].profiles and profile not in zones[zone].profiles:
            yield Problem(at, f"zone {zone} does not list the profile {profile!r}",
                          f"add it to the zone's profiles ({', '.join(zones[zone].profiles)}) "
                          "or choose another zone")
