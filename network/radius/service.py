"""The FreeRADIUS renderer: a whole configuration folder (etc/freeradius) from the site's radius
section, checked by ``freeradius -C``. Secrets and certificates are state, only referred to."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import network
from appliance.render.layout import Layout, installed_programs
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.render.units import Health, Unit
from appliance.run import run
from appliance.site import Site
from appliance.site.zones import Purpose
from network.radius.paths import CONFIG_DIR, LOCAL_CLIENT, RadiusPaths
from network.radius.settings import settings_for

TEMPLATES = environment("network.radius")
FILES = {  # template -> file inside the configuration folder
    "radiusd.conf.j2": "radiusd.conf",
    "clients.conf.j2": "clients.conf",
    "eap.j2": "mods-enabled/eap",
    "carine.j2": "mods-enabled/carine",
    "default.j2": "sites-enabled/default",
    "inner-tunnel.j2": "sites-enabled/inner-tunnel",
    "check-eap-tls.j2": "sites-enabled/check-eap-tls",
}


def client_zones(site: Site) -> list[str]:
    """Zones where RADIUS clients live: the management zones that hold at least one."""
    out = []
    for zone in site.zones:
        if zone.purpose is not Purpose.MANAGEMENT:
            continue
        if any((c.address is not None and c.address in zone.subnet)
               or (c.network is not None and c.network.subnet_of(zone.subnet))
               for c in site.radius.clients):
            out.append(zone.name)
    return out


def python_path(layout: Layout) -> str:
    """Where FreeRADIUS's embedded Python (Debian's 3.11) finds our package and its
    dependencies: the venv's site-packages, and this checkout when installed editable."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site_packages = layout.programs.parent / "lib" / version / "site-packages"
    parts = [str(site_packages)]
    source = Path(network.__file__).resolve().parents[1]
    if layout.programs == installed_programs() and not str(source).startswith(str(site_packages)):
        parts.insert(0, str(source))
    return ":".join(parts)


class RadiusService:
    """FreeRADIUS 3: EAP-TLS, PEAP-MSCHAPv2 and TTLS/PAP on our directory, MAC authentication,
    VLAN per profile, accounting into sessions."""

    name = "radius"

    def openings(self, site: Site) -> Sequence[Contribution]:
        if not site.radius.enabled:
            return []
        zones = tuple(client_zones(site))
        ports = (site.radius.auth_port, site.radius.acct_port)
        return [Opening(self.name, "udp", ports, zones, "RADIUS from access points and switches")]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        site, layout = ctx.site, ctx.layout
        if not site.radius.enabled:
            return {}
        radius = site.radius
        paths = RadiusPaths.of(layout)
        confdir = layout.etc(CONFIG_DIR)
        listen = ["127.0.0.1", *(str(site.zone(z).gateway()) for z in client_zones(site))]
        clients = [{"name": LOCAL_CLIENT.lstrip("_"), "ipaddr": "127.0.0.1", "kind": "local",
                    "shortname": "local", "why": "the appliance itself (checks, tests)",
                    "require_ma": "no", "secret_file": paths.secret_conf(LOCAL_CLIENT)}]
        for c in radius.clients:
            # Switches send MAC authentication without Message-Authenticator; EAP always has it.
            clients.append({"name": c.name, "ipaddr": c.address or c.network, "kind": c.kind,
                            "shortname": c.shortname or c.name,
                            "why": "Wi-Fi access point" if c.kind == "ap"
                            else "wired 802.1X and MAC authentication",
                            "require_ma": "yes" if c.kind == "ap" else "no",
                            "secret_file": paths.secret_conf(c.name)})
        default_eap = "peap" if radius.peap_mschapv2 else ("ttls" if radius.ttls_pap else "tls")
        values = {
            "header": HEADER.format(uai=site.school.uai), "radius": radius, "confdir": confdir,
            "logdir": layout.log / "freeradius", "rundir": layout.run / "freeradius",
            "state": layout.state, "radius_state": paths.root, "secrets": paths.secrets,
            "clients": clients, "listen": listen, "default_eap": default_eap,
            "python_path": python_path(layout), "settings": confdir / "carine.json",
        }
        files = {confdir / target: render(TEMPLATES, template, **values)
                 for template, target in FILES.items()}
        if radius.peap_mschapv2:
            files[confdir / "mods-enabled/mschap"] = render(TEMPLATES, "mschap.j2", **values)
        files[confdir / "carine.json"] = settings_for(site, layout).to_json()
        return files

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        if not site.radius.enabled:
            return []
        confdir = layout.etc(CONFIG_DIR)
        paths = RadiusPaths.of(layout)
        # Root without capabilities: it reads root's 0600 secrets and writes sessions. It calls
        # setresuid to its own root ids (rad_suid_up) once loaded: @privileged's setuid calls.
        return [Unit("freeradius", "CARINE RADIUS and 802.1X (FreeRADIUS)",
                     ("/usr/sbin/freeradius", "-f", "-l", "stdout", "-d", str(confdir)),
                     reads=(confdir, paths.root),
                     state_dirs=(layout.log / "freeradius", layout.run / "freeradius",
                                 layout.state),
                     after=("nftables",), system_calls=("@privileged",),
                     health=Health("tcp", port=site.radius.auth_port, udp=True, timeout=30))]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        from network.radius.state import ensure_state

        confdir = layout.etc(CONFIG_DIR)
        # The configuration refers to certificates and secrets in the state folder: a tree
        # checked in place gets its own (made once, kept), as the appliance does on apply.
        ensure_state(layout)
        for folder in (layout.log / "freeradius", layout.run / "freeradius"):
            folder.mkdir(parents=True, exist_ok=True)
        result = run(["freeradius", "-C", "-l", "stdout", "-d", str(confdir)], check=False,
                     timeout=60)
        return [CheckResult(self.name, f"freeradius -C -d {confdir}", result.ok,
                            result.output()[-3000:] if not result.ok else
                            "configuration, modules and certificates loaded")]


service = RadiusService()
