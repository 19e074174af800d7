"""The printable settings sheet (HTML, French) of an access point that CARINE does not
configure itself: SSIDs, security, RADIUS server and ports, VLANs per profile. Secrets appear
only when asked (--with-secrets); otherwise the sheet says where to read them."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from appliance.site import Site
from appliance.site.wifi import AccessPoint
from network.wifi.hostapd import access_point
from network.wifi.radius_link import RadiusServer, client_for, server_for
from network.wifi.secrets import Secrets

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("network.wifi", "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class Row:
    """One SSID as the sheet shows it."""

    name: str
    ssid: str
    security: str
    vlan: str
    secret: str


def _security(kind: str, wpa3: str) -> str:
    if kind == "enterprise":
        return ("WPA3-Entreprise uniquement (802.1X, PMF obligatoire)" if wpa3 == "only" else
                "WPA2/WPA3-Entreprise (802.1X, AES-CCMP, PMF optionnel)")
    return ("WPA3-Personnel uniquement (SAE, PMF obligatoire)" if wpa3 == "only" else
            "WPA2/WPA3-Personnel (WPA2-PSK + SAE, AES-CCMP, PMF optionnel)")


def rows(site: Site, ap: AccessPoint, secrets: Secrets | None) -> list[Row]:
    out = []
    for name in ap.ssids:
        ssid = site.wifi.ssid(name)
        if ssid.zone is not None:
            zone = site.zone(ssid.zone)
            vlan = f"VLAN {zone.vlan} fixe (zone {zone.name})"
        else:
            vlan = "VLAN dynamique donné par RADIUS (attributs RFC 2868)"
        if ssid.security == "guest-psk":
            secret = (secrets.guest_passphrase(name) if secrets is not None
                      else f"sur l'appliance : carine wifi passphrase {name}")
        else:
            secret = "aucun (identifiant personnel de chaque utilisateur)"  # noqa: S105
        out.append(Row(name, ssid.ssid, _security(ssid.security, ssid.wpa3), vlan, secret))
    return out


def render_sheet(site: Site, name: str, secrets: Secrets | None = None) -> str:
    """The sheet of access point ``name``; with ``secrets``, the secrets themselves."""
    ap = access_point(site, name)
    enterprise = any(site.wifi.ssid(n).security == "enterprise" for n in ap.ssids)
    radius: RadiusServer | None = server_for(site, ap) if enterprise else None
    client = client_for(site, ap) if enterprise else None
    radius_secret = None
    if radius is not None:
        radius_secret = (secrets.radius_secret(radius.client) if secrets is not None
                         else f"sur l'appliance : carine radius secret {radius.client}")
    plan = site.wifi.schedules.get(ap.schedule) if ap.schedule else None
    schedule = [(DAYS[i], ", ".join(day) or "coupé") for i, day in
                enumerate(plan.days())] if plan else []
    vlans = [(profile, site.zone(zone).vlan, zone)
             for profile, zone in sorted(site.radius.profile_zones.items())]
    return _ENV.get_template("sheet.html.j2").render(
        site=site, ap=ap, rows=rows(site, ap, secrets), radius=radius, client=client,
        radius_secret=radius_secret, with_secrets=secrets is not None, schedule=schedule,
        vlans=vlans)
