"""The journal's part of the pipeline: ``etc/carine/journal.json``, what the journal daemon and
``carine journal`` read (folder, retention, Squid's log, the uplink for NAT, the collector)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance import runtime
from appliance.journal.config import JournalFile, SyslogFile
from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, RenderContext
from appliance.render.units import Health, Timer, Unit
from appliance.site import Site

CONFIG = "carine/journal.json"


def render_config(site: Site, layout: Layout) -> str:
    settings = site.journal
    syslog = settings.syslog
    return runtime.dump(JournalFile(
        root=layout.state / "journal", state=layout.state / "journal-ingest",
        school=f"{site.school.name} ({site.school.uai})", timezone=site.school.timezone,
        retention=settings.retention.model_dump(),
        squid_log=layout.log / "squid/access.log" if site.filtering.enabled else None,
        uplink=site.uplink.interface, sessions=layout.state / "state.sqlite",
        syslog=None if syslog is None else SyslogFile(
            host=str(syslog.host), port=syslog.port, ca_file=syslog.ca_file,
            kinds=tuple(syslog.kinds))))


class JournalService:
    """The legal journal: nothing listens; the config tells its daemon where everything is."""

    name = "journal"

    def openings(self, site: Site) -> Sequence[Contribution]:
        return []

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        return {ctx.layout.etc(CONFIG): render_config(ctx.site, ctx.layout)}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit | Timer]:
        conf = layout.etc(CONFIG)
        journal = (layout.state / "journal", layout.state / "journal-ingest")
        pidfile = layout.run / "journald.pid"
        carine = str(layout.programs / "carine")
        return [
            # Root: conntrack (NAT records) needs CAP_NET_ADMIN, Squid's log is the proxy's.
            Unit("journald", "CARINE legal journal (Squid log, NAT, seals, forwarding)",
                 (str(layout.programs / "carine-journald"), "--config", str(conf),
                  "--pidfile", str(pidfile)),
                 # The state store: its sessions name spliced HTTPS's user (SQLite's WAL
                 # readers write the -shm beside it, hence a state directory, not a read).
                 reads=(conf, layout.log / "squid"), state_dirs=(*journal, layout.run,
                                                                 layout.state),
                 capabilities=("CAP_NET_ADMIN", "CAP_DAC_READ_SEARCH"),
                 address_families=("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"),
                 after=("squid",),
                 health=Health("command", argv=("/usr/bin/test", "-s", str(pidfile)))),
            Unit("journal-purge", "CARINE journal: seal ended days, purge past retention",
                 (carine, "journal", "--config", str(conf), "purge"),
                 reads=(conf,), state_dirs=journal, kind="oneshot"),
            Timer("journal-purge", "CARINE journal seal and purge, daily", "*-*-* 00:20:00",
                  "journal-purge"),
        ]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        return []  # JSON we wrote ourselves from a validated site


service = JournalService()
