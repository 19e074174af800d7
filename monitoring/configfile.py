"""monitoring.json as a model: what the exporter and the prober read, written by the monitoring
service through the shared runtime codec (``appliance.runtime``)."""

from __future__ import annotations

from pathlib import Path

from appliance import runtime
from appliance.runtime import RuntimeFile


class EndpointFile(RuntimeFile):
    address: str
    port: int


class TargetFile(RuntimeFile):
    name: str
    url: str
    expect: str | None = None
    login_path: str | None = None
    login_expect: str | None = None
    paths: tuple[str, ...]
    interval: float
    timeout: float
    objective: float


class ProbesFile(RuntimeFile):
    results: Path
    concurrency: int
    ca_file: str | None = None
    resolver: EndpointFile
    upstream: EndpointFile | None = None
    proxy: EndpointFile | None = None
    proxy_zone: str | None = None
    gateway: str | None = None
    """None in DHCP mode: the prober reads the default route when it probes."""
    gateway_ping: bool
    targets: tuple[TargetFile, ...]
    timezone: str = "Europe/Paris"
    """The school's: the day of the availability history (monitoring/history.py)."""


class MonitoringFile(RuntimeFile):
    uai: str
    port: int
    user: str
    password_hash: str
    """Its argon2 hash only, never the password."""
    state: Path
    run: Path
    log: Path
    manifest: Path
    daemons: tuple[str, ...]
    """The long-lived units the services declare: the exporter watches each."""
    probes: ProbesFile


def load(path: Path) -> MonitoringFile:
    return runtime.load(MonitoringFile, path, "monitoring")
