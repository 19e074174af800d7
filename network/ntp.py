"""The chrony renderer: the appliance keeps time for its zones (D-NET-3).

Connection logs are only evidence if their clocks are right (D-LOG-1), so every zone gets NTP."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.templating import HEADER, environment, render
from appliance.render.units import Health, Unit
from appliance.run import run
from appliance.site import Site

TEMPLATES = environment("network")
CONFIG = "chrony/chrony.conf"


class ChronyService:
    """NTP client of the upstreams, NTP server for every zone."""

    name = "chrony"

    def openings(self, site: Site) -> Sequence[Contribution]:
        return [Opening(self.name, "udp", (123,), tuple(z.name for z in site.zones), "NTP")]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        site, layout = ctx.site, ctx.layout
        text = render(TEMPLATES, "chrony.conf.j2", header=HEADER.format(uai=site.school.uai),
                      site=site, state=layout.state, run=layout.run)
        return {layout.etc(CONFIG): text}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        # The one daemon allowed to set the clock (CAP_SYS_TIME); it drops to _chrony itself.
        return [Unit(
            "chronyd", "CARINE time for the zones (chrony)",
            ("/usr/sbin/chronyd", "-d", "-f", str(layout.etc(CONFIG))),
            drops_to="_chrony", reads=(layout.etc(CONFIG),),
            state_dirs=(layout.state / "chrony", layout.run / "chrony", layout.run),
            capabilities=("CAP_SYS_TIME", "CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID",
                          "CAP_CHOWN", "CAP_DAC_OVERRIDE"),
            system_calls=("@privileged",), after=("nftables",),
            health=Health("tcp", port=123, udp=True))]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = layout.etc(CONFIG)
        # -p parses the file and prints it back; any unknown or malformed directive is fatal.
        result = run(["chronyd", "-p", "-f", str(path)], check=False)
        return [CheckResult(self.name, f"chronyd -p -f {path}", result.ok,
                            result.stderr.strip() if not result.ok else "configuration parsed")]


service = ChronyService()
