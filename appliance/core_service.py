"""The appliance's own contribution to the pipeline: routing sysctls and its SSH opening.

Forwarding is switched on here, on the appliance only; the lab sets it inside its namespace."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.templating import HEADER
from appliance.render.units import Timer, Unit
from appliance.site import Site

SYSCTL = "sysctl.d/90-carine.conf"
SETTINGS = {
    "net.ipv4.ip_forward": "1",
    # Strict reverse-path filtering: a zone cannot spoof another zone's addresses.
    "net.ipv4.conf.all.rp_filter": "1",
    "net.ipv4.conf.default.rp_filter": "1",
    "net.ipv4.conf.all.accept_redirects": "0",
    "net.ipv4.conf.all.send_redirects": "0",
    "net.ipv4.conf.all.accept_source_route": "0",
    "net.ipv4.tcp_syncookies": "1",
}


class ApplianceService:
    """Kernel settings of a router, and remote administration from the managing zones."""

    name = "appliance"

    def openings(self, site: Site) -> Sequence[Contribution]:
        managing = tuple(z.name for z in site.zones if z.is_managing())
        return [Opening(self.name, "tcp", (22,), managing, "SSH administration")] if managing \
            else []

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        lines = [f"# {HEADER.format(uai=ctx.site.school.uai)}"]
        lines += [f"{key} = {value}" for key, value in SETTINGS.items()]
        return {ctx.layout.etc(SYSCTL): "\n".join(lines) + "\n"}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit | Timer]:
        """The directory's monthly purge of people deactivated long ago (imports are run by
        hand or by the ENT's drop: they take files)."""
        purge = Unit("users-purge", "CARINE directory: delete people deactivated > 3 months",
                     (str(layout.programs / "carine"), "users", "purge", "--state",
                      str(layout.state), "--site", str(layout.etc("carine/site.yaml"))),
                     state_dirs=(layout.state,), kind="oneshot")
        return [purge, Timer("users-purge", "CARINE directory purge, monthly", "monthly",
                             "users-purge")]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        # sysctl has no dry run: check that every key names a setting this kernel has.
        path = layout.etc(SYSCTL)
        missing = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                key = line.split("=", 1)[0].strip()
                if not (Path("/proc/sys") / key.replace(".", "/")).exists():
                    missing.append(key)
        output = f"unknown keys: {', '.join(missing)}" if missing else "all keys exist"
        return [CheckResult(self.name, f"keys of {path} in /proc/sys", not missing, output)]


service = ApplianceService()
