"""How a service runs: the units it declares (daemons, oneshots, timers), for both runners.

One declaration, two runners: ``appliance.render.systemd`` writes hardened systemd units from
these for the appliance, and the lab starts the same argv, user and environment in namespaces.

The API, in full (a service adds ``units(site, layout)`` to what it already declares)::

    Unit(name="portal", description="CARINE captive portal",
         argv=(str(layout.programs / "carine-portal"), "--config", str(conf)),
         user="carine-portal",                       # None = root (only where it must)
         reads=(conf,), state_dirs=(layout.state / "portal",),
         capabilities=("CAP_NET_ADMIN",),           # bounding and ambient set, nothing else
         reload=Reload("signal", signal="HUP"),      # or Reload("command", argv=...) / "restart"
         health=Health("tcp", port=8080))            # or Health("http", url=...) / "command"
    Timer(name="lists-update", description="...", on_calendar="*-*-* 03:00:00",
          unit="lists-update")                       # starts the oneshot Unit of that name

Names are short (``portal``); the installed unit is ``carine-portal.service``. Units know
nothing of namespaces: the lab adds those. ``units_of(service, site, layout)`` is what the
pipeline calls, so a service that declares nothing (no ``units`` method) runs nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from appliance.errors import CarineError

if TYPE_CHECKING:
    from appliance.render.layout import Layout
    from appliance.site import Site

NAME = re.compile(r"^[a-z][a-z0-9-]{0,40}$")


@dataclass(frozen=True)
class Reload:
    """How a daemon takes a new configuration: a signal to its main PID, a command, or a
    restart (the default: always correct, sometimes slower)."""

    kind: Literal["signal", "command", "restart"] = "restart"
    signal: str = "HUP"
    argv: tuple[str, ...] = ()


@dataclass(frozen=True)
class Health:
    """How to tell that a daemon serves: a TCP port that accepts, an HTTP URL that answers
    2xx/3xx, or a command that exits 0 — within ``timeout`` seconds."""

    kind: Literal["tcp", "http", "command"]
    port: int = 0
    host: str = "127.0.0.1"
    url: str = ""
    argv: tuple[str, ...] = ()
    udp: bool = False
    """For ``tcp``: the port is a UDP one (checked as bound, since UDP does not accept)."""
    timeout: float = 10.0


@dataclass(frozen=True)
class Unit:
    """A process the appliance runs: a long-lived daemon, or a oneshot (started by a timer or
    once at boot, e.g. loading the ruleset)."""

    name: str
    description: str
    argv: tuple[str, ...]
    user: str | None = None
    """The account it runs as; ``None`` is root. Accounts named ``carine-*`` are created by
    sysusers.d; others (``proxy``, ``dnsmasq``, ``freerad``) come with their Debian package."""
    drops_to: str | None = None
    """The account a daemon started as root switches to by itself (Squid's ``proxy``): it
    owns the unit's state folders."""
    reads: tuple[Path, ...] = ()
    state_dirs: tuple[Path, ...] = ()
    """The only places it may write (ReadWritePaths); created by tmpfiles.d, owned by ``user``."""
    shared_dirs: tuple[Path, ...] = ()
    """State folders it writes that daemons under other accounts read (0755, not 0750)."""
    state_files: tuple[Path, ...] = ()
    """Single files it may write where their folder is shared (a lease file in the state)."""
    capabilities: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    """Units (short names of ours, or full systemd names like ``network-online.target``)
    started before this one."""
    wants: tuple[str, ...] = ()
    restart: Literal["on-failure", "always", "no"] = "on-failure"
    restart_delay: float = 2.0
    """Seconds between a failure and the restart (RestartSec; the lab waits the same)."""
    environment: tuple[tuple[str, str], ...] = ()
    reload: Reload = field(default_factory=Reload)
    health: Health | None = None
    kind: Literal["simple", "oneshot"] = "simple"
    address_families: tuple[str, ...] = ("AF_UNIX", "AF_INET", "AF_INET6")
    write_execute: bool = False
    """The daemon needs memory both writable and executable (a JIT): no MemoryDenyWriteExecute."""
    devices: bool = False
    """The daemon needs real devices (e.g. hostapd's network device): no PrivateDevices."""
    system_calls: tuple[str, ...] = ()
    """System call groups allowed beyond ``@system-service`` (e.g. ``@privileged`` for a
    daemon that drops root itself)."""

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise CarineError(f"unit name {self.name!r} is not a short lower-case name",
                              "name units like 'portal' or 'dns-pupils'")
        if not self.argv:
            raise CarineError(f"unit {self.name} has no command")

    @property
    def unit_name(self) -> str:
        return f"carine-{self.name}.service"


@dataclass(frozen=True)
class Timer:
    """Scheduled work: starts the oneshot ``unit`` (a short name) at ``on_calendar``."""

    name: str
    description: str
    on_calendar: str
    unit: str
    persistent: bool = True
    """Run at boot a start that was missed while the machine was off."""

    def __post_init__(self) -> None:
        if not NAME.match(self.name) or not NAME.match(self.unit):
            raise CarineError(f"timer name {self.name!r} or its unit {self.unit!r} is not a "
                              "short lower-case name")

    @property
    def unit_name(self) -> str:
        return f"carine-{self.name}.timer"


Declared = Unit | Timer


def pid_file(run: Path, name: str) -> Path:
    """Where either runner records a daemon's main PID (what ``carine_daemon_up`` reads)."""
    return run / "units" / f"{name}.pid"


def units_of(service: object, site: Site, layout: Layout) -> Sequence[Declared]:
    """What ``service`` declares it runs (nothing if it has no ``units`` method)."""
    method = getattr(service, "units", None)
    if method is None:
        return ()
    declared: Sequence[Declared] = method(site, layout)
    return declared


def all_units(services: Sequence[object], site: Site, layout: Layout) -> list[Declared]:
    """Every service's units, checked together: unique names, timers start a declared oneshot."""
    found: list[Declared] = [u for svc in services for u in units_of(svc, site, layout)]
    names = [u.unit_name for u in found]
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise CarineError(f"two services declare the same unit: {', '.join(doubles)}")
    oneshots = {u.name for u in found if isinstance(u, Unit) and u.kind == "oneshot"}
    for timer in (u for u in found if isinstance(u, Timer)):
        if timer.unit not in oneshots:
            raise CarineError(f"timer {timer.name} starts {timer.unit}, which no service "
                              "declares as a oneshot unit")
    return found


def daemons(declared: Sequence[Declared]) -> list[Unit]:
    """The long-lived daemons among ``declared`` (what is supervised and watched)."""
    return [u for u in declared if isinstance(u, Unit) and u.kind == "simple"]
