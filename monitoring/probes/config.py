"""The prober's configuration: rendered from the site into monitoring.json ("probes"), read back
by the daemon. Defaults are expanded here, so the daemon probes exactly what the file lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.site import Internet, Purpose, Site
from appliance.site.probes import Target
from monitoring.probes import RESULTS


@dataclass(frozen=True)
class Endpoint:
    """An address and port (a resolver, the proxy)."""

    address: str
    port: int


@dataclass(frozen=True)
class TargetSpec:
    """One target as the daemon runs it."""

    name: str
    url: str
    paths: tuple[str, ...]
    interval: float
    timeout: float
    objective: float
    expect: str | None = None
    login_path: str | None = None
    login_expect: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def login_url(self) -> str | None:
        if self.login_path is None:
            return None
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{self.login_path}"


@dataclass(frozen=True)
class ProberConfig:
    """Everything ``carine-prober`` needs."""

    results: Path
    pidfile: Path
    concurrency: int
    resolver: Endpoint
    upstream: Endpoint | None
    proxy: Endpoint | None
    gateway: str | None
    gateway_ping: bool
    targets: tuple[TargetSpec, ...]
    ca_file: str | None = None
    timezone: str = "Europe/Paris"
    """The school's: the day of the availability history (monitoring/history.py)."""

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> ProberConfig:
        """From a parsed monitoring.json; CarineError when its "probes" part is missing or bad."""
        try:
            p = doc["probes"]
            return cls(
                results=Path(p["results"]), pidfile=Path(doc["run"]) / "monitoring/prober.pid",
                concurrency=int(p["concurrency"]), resolver=Endpoint(**p["resolver"]),
                upstream=Endpoint(**p["upstream"]) if p.get("upstream") else None,
                proxy=Endpoint(**p["proxy"]) if p.get("proxy") else None,
                gateway=p.get("gateway"), gateway_ping=bool(p["gateway_ping"]),
                targets=tuple(TargetSpec(**{**t, "paths": tuple(t["paths"])})
                              for t in p["targets"]),
                ca_file=p.get("ca_file"), timezone=str(p.get("timezone", "Europe/Paris")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CarineError(f"the probes part of the monitoring configuration is unusable: "
                              f"{exc!r}", "render the site again (carine render)") from exc


def proxy_source_zone(site: Site) -> str | None:
    """The zone whose users the proxy probes stand in for: pupils first (the ENT matters most
    to them, and their filtering is the strictest), else the first filtered zone.

    Squid admits clients by zone, and the appliance's own address in that zone is inside it;
    127.0.0.1 belongs to no zone, so Squid would refuse it."""
    filtered = [z for z in site.zones if z.internet is Internet.FILTERED]
    pupils = [z for z in filtered if z.purpose is Purpose.PEDAGOGICAL]
    chosen = pupils or filtered
    return chosen[0].name if chosen else None


def _target(t: Target, proxied: bool) -> dict[str, Any]:
    return {
        "name": t.name, "url": t.url, "expect": t.expect,
        "login_path": t.login_check.path if t.login_check else None,
        "login_expect": t.login_check.expect if t.login_check else None,
        "paths": [p for p in t.paths if proxied or p != "proxy"],
        "interval": t.interval_seconds, "timeout": t.timeout_seconds,
        "objective": t.target_seconds,
    }


def render(site: Site, layout: Layout) -> dict[str, Any]:
    """The "probes" part of monitoring.json."""
    probes = site.monitoring.probes
    zone = proxy_source_zone(site) if site.filtering.enabled else None
    proxy = None
    if zone is not None:
        proxy = {"address": str(site.zone(zone).gateway()), "port": site.filtering.proxy.port}
    upstreams = site.dns.upstreams
    targets = [_target(t, proxy is not None) for t in probes.effective_targets()]
    return {
        "results": str(layout.run / RESULTS),
        "timezone": site.school.timezone,
        "concurrency": probes.concurrency,
        "ca_file": str(probes.ca_file) if probes.ca_file else None,
        "resolver": {"address": "127.0.0.1", "port": 53},
        "upstream": {"address": str(upstreams[0]), "port": 53} if upstreams else None,
        "proxy": proxy, "proxy_zone": zone,
        # None in dhcp mode: the daemon reads the default route when it probes.
        "gateway": str(site.uplink.gateway) if site.uplink.gateway else None,
        "gateway_ping": probes.gateway_ping,
        "targets": [t for t in targets if t["paths"]],
    }
