"""The storage's contribution to the pipeline, in one place: its HTTPS port opened from the
zones the site names (never a guest zone), storage.json for the daemon, and its units."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.units import Declared, Health, Timer, Unit
from appliance.site import Site
from appliance.site.zones import Purpose
from storage.config import MB, Quotas, StorageConfig
from storage.users import PUPIL, STAFF, TEACHER

CONFIG = "carine/storage.json"
DEFAULT_PURPOSES = (Purpose.PEDAGOGICAL, Purpose.STAFF, Purpose.ADMIN)


def zones(site: Site) -> list[str]:
    """The zones whose clients reach the storage."""
    if not site.storage.enabled:
        return []
    if site.storage.zones:
        return [z for z in site.storage.zones
                if any(zone.name == z and zone.purpose is not Purpose.GUEST
                       for zone in site.zones)]
    return [z.name for z in site.zones if z.purpose in DEFAULT_PURPOSES]


def config(site: Site, layout: Layout) -> StorageConfig:
    s = site.storage
    names = set(zones(site))
    profiles = site.directory.profiles
    return StorageConfig(
        listen=tuple(str(z.gateway()) for z in site.zones if z.name in names),
        port=s.port, root=layout.state / "storage" / "tree", store=layout.state / "state.sqlite",
        tls=layout.state / "tls" / "appliance.pem", hostname=f"carine.{site.lan.domain}",
        profiles={profiles.pupil: PUPIL, profiles.teacher: TEACHER, profiles.staff: STAFF},
        quotas=Quotas(pupil=s.quota_mb_pupil * MB, teacher=s.quota_mb_teacher * MB,
                      staff=s.quota_mb_staff * MB,
                      users={k: v * MB for k, v in s.quota_mb.items()},
                      warn_percent=s.warn_percent),
        pupils_write=s.pupils_write, lockout_attempts=site.portal.lockout.attempts,
        lockout_minutes=site.portal.lockout.minutes, antivirus=s.antivirus.enabled,
        clamd_socket=s.antivirus.socket, scan_max_bytes=s.antivirus.max_mb * MB)


class StorageService:
    name = "storage"

    def openings(self, site: Site) -> Sequence[Contribution]:
        served = tuple(zones(site))
        if not served:
            return ()
        return [Opening(self.name, "tcp", (site.storage.port,), served, "storage (WebDAV)")]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        if not zones(ctx.site):
            return {}
        return {ctx.layout.etc(CONFIG): config(ctx.site, ctx.layout).dump()}

    def units(self, site: Site, layout: Layout) -> Sequence[Declared]:
        served = zones(site)
        if not served:
            return []
        conf = layout.etc(CONFIG)
        first = next(z for z in site.zones if z.name == served[0])
        # Root like the console: it writes the shared state store (lockout counters, usage).
        # ClamAV is Debian's clamav-daemon unit (its signatures kept by clamav-freshclam).
        av = ("clamav-daemon.service",) if site.storage.antivirus.enabled else ()
        units: list[Declared] = [Unit(
                     "storage", "CARINE storage (WebDAV homes, shares, drop boxes)",
                     (str(layout.programs / "carine-storage"), "--config", str(conf)),
                     reads=(conf,), state_dirs=(layout.state,), after=("nftables", *av),
                     wants=av,
                     health=Health("tcp", port=site.storage.port, host=str(first.gateway())))]
        backup = site.storage.backup
        if backup.enabled:
            carine = str(layout.programs / "carine")
            site_file = str(layout.etc("carine/site.yaml"))
            tz = site.school.timezone
            for name, extra, when in (("daily", (), f"*-*-* {backup.daily_at}:00 {tz}"),
                                      ("monthly", ("--full",), f"*-*-01 04:00:00 {tz}")):
                units.append(Unit(f"backup-{name}", f"CARINE {name} backup (borg)",
                                  (carine, "backup", "--site", site_file, "run", *extra),
                                  kind="oneshot", reads=(layout.etc("carine"),),
                                  state_dirs=(layout.state,), restart="no"))
                units.append(Timer(f"backup-{name}", f"CARINE {name} backup", when,
                                   f"backup-{name}"))
        return units

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = tree / layout.tree_path(layout.etc(CONFIG))
        if not path.exists():
            return []
        cfg = StorageConfig.load(path)
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [CheckResult(self.name, f"read {path}", bool(cfg.listen),
                            f"listens on {', '.join(doc['listen'])}:{cfg.port}")]


service = StorageService()
