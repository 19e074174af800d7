"""The console's contribution to the pipeline: its HTTPS port opened from the zones that may
administer the appliance only, console.json for the daemon, and the daemon's unit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult, Contribution, Opening, RenderContext
from appliance.render.units import Health, Unit
from appliance.site import Site

CONFIG = "carine/console.json"
PORT = 8443


def managing(site: Site) -> list[str]:
    return [z.name for z in site.zones if z.is_managing()]


def render_config(site: Site, layout: Layout) -> str:
    doc = {"site": str(layout.etc("carine/site.yaml")), "port": PORT,
           "listen": [str(z.gateway()) for z in site.zones if z.is_managing()],
           "store": str(layout.state / "state.sqlite"), "journal": str(layout.state / "journal"),
           "run": str(layout.run),
           "tls": str(layout.state / "console" / "tls.pem"),
           "secret": str(layout.state / "console" / "secret"),
           "voucher_key": str(layout.state / "portal" / "voucher.key")}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


class ConsoleService:
    name = "console"

    def openings(self, site: Site) -> Sequence[Contribution]:
        zones = tuple(managing(site))
        if not zones:
            return ()
        return [Opening(self.name, "tcp", (PORT,), zones, "web console (HTTPS)")]

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        if not managing(ctx.site):
            return {}
        return {ctx.layout.etc(CONFIG): render_config(ctx.site, ctx.layout)}

    def units(self, site: Site, layout: Layout) -> Sequence[Unit]:
        if not managing(site):
            return []
        conf = layout.etc(CONFIG)
        # It writes the state store (openings, answers, accounts) and the journal (D-LOG-3),
        # which the portal, as root, writes too: the same account until the journal has its own.
        return [Unit("console", "CARINE web console (teachers, référent, head of school)",
                     (str(layout.programs / "carine-console"), "--config", str(conf)),
                     reads=(conf, layout.etc("carine/site.yaml")),
                     state_dirs=(layout.state,), after=("nftables",),
                     health=Health("tcp", port=PORT, host=str(next(
                         z.gateway() for z in site.zones if z.is_managing()))))]

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        path = tree / layout.tree_path(layout.etc(CONFIG))
        if not path.exists():
            return []
        doc = json.loads(path.read_text(encoding="utf-8"))
        return [CheckResult(self.name, f"read {path}", bool(doc.get("listen")),
                            f"listens on {', '.join(doc.get('listen', []))}:{doc.get('port')}")]


service = ConsoleService()
