"""hostapd configuration of a Linux access point, from the site: one BSS per SSID, WPA2/WPA3-
Enterprise through the appliance's RADIUS with dynamic VLANs, the guest network on SAE/PSK.

Pure: secrets come in through ``Secrets``; the result is written 0600 by the caller."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.errors import CarineError
from appliance.render.templating import HEADER, environment, render
from appliance.site import Site
from appliance.site.wifi import AccessPoint, Ssid
from network.wifi.radius_link import server_for
from network.wifi.secrets import Secrets

TEMPLATES = environment("network.wifi")
CTRL_DIR = Path("/run/hostapd")  # where hostapd_cli looks by default on the access point
VLAN_BRIDGE = "brvlan"  # hostapd's own name for the bridge of VLAN N is brvlanN (vlan_naming=1)


@dataclass(frozen=True)
class Bss:
    """One SSID on one radio."""

    ssid: Ssid
    ifname: str
    vlan: int | None
    zone: str | None
    passphrase: str

    @property
    def ssid_hex(self) -> str:
        return self.ssid.ssid.encode().hex()


def access_point(site: Site, name: str) -> AccessPoint:
    """The access point ``name`` of ``site``, or an error naming the known ones."""
    try:
        return site.wifi.access_point(name)
    except KeyError:
        known = ", ".join(ap.name for ap in site.wifi.access_points) or "(none declared)"
        raise CarineError(f"no access point named {name!r}", f"known: {known}") from None


def bsses(site: Site, ap: AccessPoint, secrets: Secrets) -> list[Bss]:
    out = []
    for index, name in enumerate(ap.ssids):
        ssid = site.wifi.ssid(name)
        zone = site.zone(ssid.zone) if ssid.zone is not None else None
        passphrase = secrets.guest_passphrase(ssid.name) if ssid.security == "guest-psk" else ""
        # Extra BSSes get their own interface, named after the radio (at most 15 characters).
        ifname = ap.interface if index == 0 else f"{ap.interface[:12]}_{index}"
        out.append(Bss(ssid, ifname, zone.vlan if zone else None,
                       zone.name if zone else None, passphrase))
    return out


def render_ap(site: Site, name: str, secrets: Secrets, ctrl_dir: Path = CTRL_DIR) -> str:
    """hostapd.conf of Linux access point ``name``."""
    ap = access_point(site, name)
    if ap.kind != "linux":
        raise CarineError(f"{ap.name} is a vendor access point: CARINE does not write its "
                          "configuration", f"print its settings sheet: carine wifi sheet {name}")
    all_bss = bsses(site, ap, secrets)
    enterprise = any(b.ssid.security == "enterprise" for b in all_bss)
    radius = server_for(site, ap) if enterprise else None
    return render(TEMPLATES, "hostapd.conf.j2", header=HEADER.format(uai=site.school.uai),
                  ap=ap, bsses=all_bss, radius=radius, ctrl_dir=ctrl_dir,
                  radius_secret=secrets.radius_secret(radius.client) if radius else "",
                  country=site.wifi.country, vlan_bridge=VLAN_BRIDGE)


def render_wired(site: Site, name: str, secrets: Secrets, interface: str, ctrl_dir: Path) -> str:
    """A wired 802.1X authenticator on ``interface`` with ``name``'s RADIUS settings: the lab's
    stand-in for the access point (same server, secret and NAS identity; no radio)."""
    ap = access_point(site, name)
    radius = server_for(site, ap)
    return render(TEMPLATES, "hostapd-wired.conf.j2", header=HEADER.format(uai=site.school.uai),
                  ap=ap, radius=radius, interface=interface, ctrl_dir=ctrl_dir,
                  radius_secret=secrets.radius_secret(radius.client))
