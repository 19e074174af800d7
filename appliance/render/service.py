"""What a service contributes to the pipeline: firewall openings, rendered files, checks.

Services are found through the ``carine.services`` entry points, so the core imports none."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from ipaddress import IPv4Network
from pathlib import Path
from typing import Literal, Protocol

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.render.units import Declared
from appliance.site import Site


@dataclass(frozen=True)
class Opening:
    """A port a service listens on, to be opened from some zones (only nftables composes them)."""

    service: str
    proto: Literal["tcp", "udp"]
    ports: tuple[int, ...]
    zones: tuple[str, ...]
    comment: str = ""
    uplink_sources: tuple[IPv4Network, ...] = ()
    """Addresses allowed to reach these ports through the uplink (e.g. the académie)."""


@dataclass(frozen=True)
class Redirect:
    """Traffic from some zones to a port, whatever its destination, goes to a local port instead
    (web to the proxy, DNS to a filtering resolver). The local port is opened for those zones."""

    service: str
    proto: Literal["tcp", "udp"]
    port: int
    to_port: int
    zones: tuple[str, ...]
    comment: str = ""
    beyond_school: bool = False
    """Only traffic that leaves the school: zone-to-zone traffic stays routed as allowed."""


Contribution = Opening | Redirect


@dataclass(frozen=True)
class RenderContext:
    """Everything a renderer may depend on: the site, where files go, what others declared."""

    site: Site
    layout: Layout
    openings: tuple[Contribution, ...] = field(default=())
    units: tuple[Declared, ...] = field(default=())
    """Every service's declared units (the exporter watches the daemons among them)."""


@dataclass(frozen=True)
class CheckResult:
    """A real tool's verdict on rendered files."""

    service: str
    command: str
    ok: bool
    output: str
    note: str = ""


class Service(Protocol):
    """A service of the appliance, as the pipeline sees it."""

    name: str

    def openings(self, site: Site) -> Sequence[Contribution]:
        """Ports this service listens on, and traffic it takes over, and from which zones."""
        ...

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        """Files of this service: absolute path (under ``ctx.layout``) to content."""
        ...

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        """Run the real tools on this service's files in the rendered ``tree``."""
        ...

    # Optional: ``def units(self, site: Site, layout: Layout) -> Sequence[Unit | Timer]``, the
    # processes this service runs (see appliance.render.units). The pipeline reads it through
    # ``units_of(service, site, layout)``, which gives () for a service that declares none.


def load_services() -> list[Service]:
    """All installed services, in a stable order."""
    found = sorted(entry_points(group="carine.services"), key=lambda ep: ep.name)
    if not found:
        raise CarineError("no CARINE service is installed",
                          "install the package (make install) so its entry points exist")
    services: list[Service] = [ep.load() for ep in found]
    return services
