"""Let the real tools judge a rendered tree: nft -c, dnsmasq --test, squid -k parse, chronyd -p.

Each service knows its own checks; this module runs them all and collects the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.render.pipeline import read_manifest
from appliance.render.service import CheckResult, Service, load_services


def check_tree(root: Path, services: Sequence[Service] | None = None) -> list[CheckResult]:
    """Run every service's checks on the tree at ``root``."""
    root = root.absolute()
    manifest = read_manifest(root)
    layout = Layout.from_json(cast(dict[str, Any], manifest["layout"]))
    if layout.config != root:
        raise CarineError(
            f"{root} was rendered for installation under {layout.config}; its files refer to "
            "paths there, so the tools cannot check it here",
            "render a tree to check in place: carine render SITE --root DIR (without --for-system)",
        )
    services = load_services() if services is None else services
    present = {str(path) for path in cast(dict[str, Any], manifest["files"])}
    wanted = [svc for svc in services if _owns_files(svc, manifest, present)]
    return [result for svc in wanted for result in svc.check(root, layout)]


def _owns_files(svc: Service, manifest: dict[str, object], present: set[str]) -> bool:
    files = cast(dict[str, dict[str, str]], manifest["files"])
    return any(files[path]["service"] == svc.name for path in present)
