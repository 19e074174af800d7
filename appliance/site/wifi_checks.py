"""Checks of the Wi-Fi section against the rest of the site: zones, schedules, RADIUS, and the
warnings of loi 2015-136 (D-WIF-3) for primary schools' classrooms."""

from __future__ import annotations

from collections.abc import Iterator

from appliance.errors import Problem
from appliance.site.model import SchoolKind, Site
from appliance.site.zones import Purpose


def wifi_problems(site: Site) -> Iterator[Problem]:
    """Every problem of ``wifi``, each with its path."""
    wifi = site.wifi
    zones = {z.name: z for z in site.zones}
    yield from _unique("wifi.ssids", [s.name for s in wifi.ssids], "SSID name")
    yield from _unique("wifi.ssids", [s.ssid for s in wifi.ssids], "network name", "ssid")
    for i, ssid in enumerate(wifi.ssids):
        at = f"wifi.ssids[{i}]"
        if ssid.zone is None:
            if ssid.security == "guest-psk":
                yield Problem(f"{at}.zone", "a guest-psk network needs its zone",
                              "name a zone of purpose guest: a shared passphrase never "
                              "reaches the school's own zones (D-WIF-1)")
            continue
        zone = zones.get(ssid.zone)
        if zone is None:
            yield Problem(f"{at}.zone", f"no zone named {ssid.zone!r}",
                          f"use one of: {', '.join(zones)}")
        elif ssid.security == "guest-psk" and zone.purpose is not Purpose.GUEST:
            yield Problem(f"{at}.zone", f"zone {zone.name} is a {zone.purpose} zone, but a "
                          "guest-psk network may only lead to a guest zone (D-WIF-1)",
                          "the school's own networks use security: enterprise (802.1X)")
        elif zone.purpose is Purpose.MANAGEMENT:
            yield Problem(f"{at}.zone", "no Wi-Fi network may lead to the management zone",
                          "access points and switches are managed by wire")
    if wifi.enabled and any(s.security == "enterprise" for s in wifi.ssids) \
            and not site.radius.enabled:
        yield Problem("radius.enabled", "enterprise Wi-Fi networks need the appliance's RADIUS",
                      "set radius.enabled: true")
    yield from _access_points(site)


def _access_points(site: Site) -> Iterator[Problem]:
    wifi = site.wifi
    aps = wifi.access_points
    yield from _unique("wifi.access_points", [a.name for a in aps], "access point name")
    yield from _unique("wifi.access_points", [str(a.address) for a in aps], "address", "address")
    managing = [z for z in site.zones if z.purpose is Purpose.MANAGEMENT]
    ssids = {s.name for s in wifi.ssids}
    for i, ap in enumerate(aps):
        at = f"wifi.access_points[{i}]"
        home = next((z for z in managing if ap.address in z.subnet), None)
        if home is None:
            where = ", ".join(f"{z.name} ({z.subnet})" for z in managing) or "none declared"
            yield Problem(f"{at}.address", f"{ap.address} is not in a management zone",
                          f"access points are managed from a management zone: {where}")
        elif ap.address in (home.gateway(), home.subnet.network_address,
                            home.subnet.broadcast_address):
            yield Problem(f"{at}.address", f"{ap.address} is not a usable address for an "
                          f"access point in {home.subnet}")
        for j, name in enumerate(ap.ssids):
            if name not in ssids:
                yield Problem(f"{at}.ssids[{j}]", f"no SSID named {name!r}",
                              f"use one of: {', '.join(sorted(ssids)) or '(none declared)'}")
        if ap.schedule is not None and ap.schedule not in wifi.schedules:
            yield Problem(f"{at}.schedule", f"no schedule named {ap.schedule!r}",
                          f"define it under wifi.schedules or use one of: "
                          f"{', '.join(wifi.schedules) or '(none declared)'}")
        enterprise = any(s.security == "enterprise" for s in wifi.ssids if s.name in ap.ssids)
        if enterprise and site.radius.enabled and not any(
                c.address == ap.address or (c.network is not None and ap.address in c.network)
                for c in site.radius.clients):
            yield Problem(f"{at}.address", f"access point {ap.name} ({ap.address}) broadcasts "
                          "an enterprise network but is no RADIUS client",
                          "add its address, or a network that holds it, under radius.clients")
        if ap.kind == "linux" and ap.ssh_host_key is None:
            yield Problem(f"{at}.ssh_host_key", "a linux access point needs its pinned SSH "
                          "host key", "run `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` "
                          "on the access point and copy the SHA256:... fingerprint")


def _unique(at: str, values: list[str], what: str, field: str = "name") -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            yield Problem(f"{at}[{i}].{field}", f"{what} {value!r} is already used by "
                          f"{at}[{seen[value]}]", f"each {what} must be unique")
        seen.setdefault(value, i)


def wifi_warnings(site: Site) -> list[Problem]:
    """What is legal to write but likely wrong: a primary school's classroom access point with
    no radio schedule (loi 2015-136 art. 7, D-WIF-3)."""
    if site.school.kind is not SchoolKind.ECOLE:
        return []
    out = []
    for i, ap in enumerate(site.wifi.access_points):
        if ap.classroom and ap.schedule is None:
            out.append(Problem(
                f"wifi.access_points[{i}].schedule",
                f"classroom access point {ap.name} ({ap.room}) has no radio schedule",
                "in a primary school the classroom Wi-Fi must be off when not used for teaching "
                "(loi 2015-136 art. 7): give it a schedule and inactivity_off_minutes, or set "
                "classroom: false"))
    return out
