"""The monitoring service's part of the pipeline: the exporter's configuration and its opening,
from the managing zones and, through the uplink, from the académie's Prometheus only."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance import runtime
from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.units import Declared, Health, Unit, daemons
from appliance.site import Site
from monitoring.configfile import MonitoringFile, ProbesFile
from monitoring.probes import config as probes

CONFIG = "carine/monitoring.json"


def render_config(site: Site, layout: Layout, declared: Sequence[Declared] = ()) -> str:
    """What the exporter and the prober read at start (the password is only there as its
    argon2 hash). The daemons it watches are the long-lived units the services declare."""
    mon = site.monitoring
    return runtime.dump(MonitoringFile(
        uai=site.school.uai, port=mon.metrics_port, user=mon.metrics_user,
        password_hash=mon.metrics_password_hash, state=layout.state, run=layout.run,
        log=layout.log, manifest=layout.etc("carine/rendered.json"),
        daemons=tuple(sorted(u.name for u in daemons(declared))),
        probes=ProbesFile.model_validate(probes.render(site, layout))))


class MonitoringService:
    """The exporter of the appliance's metrics."""

    name = "monitoring"

    def openings(self, site: Site) -> Sequence[Contribution]:
        mon = site.monitoring
        if not mon.enabled:
            return ()
        managing = tuple(z.name for z in site.zones if z.is_managing())
        return [Opening(self.name, "tcp", (mon.metrics_port,), managing, "metrics (D-SUP-2)",
                        uplink_sources=mon.scrapers)]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        if not ctx.site.monitoring.enabled:
            return {}
        return {ctx.layout.etc(CONFIG): render_config(ctx.site, ctx.layout, ctx.units)}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        if not site.monitoring.enabled:
            return []
        conf = layout.etc(CONFIG)
        return [
            Unit("exporter", "CARINE metrics exporter (authenticated /metrics)",
                 (str(layout.programs / "carine-exporter"), "--config", str(conf)),
                 reads=(conf, layout.state), state_dirs=(layout.state,),
                 health=Health("tcp", port=site.monitoring.metrics_port)),
            # Its own account, given raw sockets (ICMP and ARP probes); it writes only its
            # results and PID, which the exporter reads.
            Unit("prober", "CARINE probes (uplink, DNS, web, national services)",
                 (str(layout.programs / "carine-prober"), "--config", str(conf)),
                 user="carine-prober", reads=(conf,), state_dirs=(layout.run / "monitoring",),
                 capabilities=("CAP_NET_RAW",),
                 address_families=("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK", "AF_PACKET"),
                 health=Health("command", argv=("/usr/bin/test", "-s",
                                                str(layout.run / "monitoring/prober.pid")))),
        ]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        return []  # JSON we wrote ourselves; the exporter validates it at start


service = MonitoringService()
