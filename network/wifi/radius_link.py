"""Where an access point meets the appliance's RADIUS: the client entry that covers its address,
the appliance's address it asks, and the shared secret that the RADIUS service generated."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from appliance.errors import CarineError
from appliance.site import Site
from appliance.site.services import RadiusClient
from appliance.site.wifi import AccessPoint
from network.radius import secrets
from network.radius.paths import RadiusPaths


@dataclass(frozen=True)
class RadiusServer:
    """What an access point's configuration says about the RADIUS server."""

    address: IPv4Address
    auth_port: int
    acct_port: int
    interim_seconds: int
    client: str


def client_for(site: Site, ap: AccessPoint) -> RadiusClient | None:
    """The RADIUS client entry covering ``ap``: its own address first, then a network."""
    clients = site.radius.clients
    exact = [c for c in clients if c.address == ap.address]
    if exact:
        return exact[0]
    return next((c for c in clients if c.network is not None and ap.address in c.network), None)


def server_for(site: Site, ap: AccessPoint) -> RadiusServer:
    """The appliance as ``ap``'s RADIUS server: its address in the access point's zone."""
    client = client_for(site, ap)
    if client is None:
        raise CarineError(f"access point {ap.name} ({ap.address}) is no RADIUS client",
                          "add it under radius.clients (its address, or a network that holds it)")
    zone = next(z for z in site.zones if ap.address in z.subnet)
    radius = site.radius
    return RadiusServer(zone.gateway(), radius.auth_port, radius.acct_port,
                        radius.interim_minutes * 60, client.name)


def radius_secret(state: Path, client: str) -> str:
    """The shared secret of RADIUS client ``client``, from the RADIUS service's own store
    (made there on first use, exactly as `carine radius secret` would)."""
    paths = RadiusPaths(state / "radius")
    secrets.ensure_names(paths, [client])
    return secrets.read(paths, client)
