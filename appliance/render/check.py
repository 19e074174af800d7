"""Let the real tools judge a rendered tree: nft -c, dnsmasq --test, squid -k parse, chronyd -p.

Each service knows its own checks; this module runs them all and collects the verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.render.pipeline import MANIFEST, read_manifest
from appliance.render.service import CheckResult, Service, load_services


def check_tree(root: Path, services: Sequence[Service] | None = None) -> list[CheckResult]:
    """Run every service's checks on the tree at ``root``."""
    root = root.absolute()
    manifest = read_manifest(root)
    try:
        layout = Layout.from_json(cast(dict[str, Any], manifest["layout"]))
    except KeyError as exc:
        raise CarineError(f"{root / MANIFEST} names no {exc} directory in its layout",
                          "render the tree again: carine render SITE --root DIR") from None
    if layout.config != root:
        raise CarineError(
            f"{root} was rendered for installation under {layout.config}; its files refer to "
            "paths there, so the tools cannot check it here",
            "render a tree to check in place: carine render SITE --root DIR (without --for-system)",
        )
    services = load_services() if services is None else services
    files = cast(dict[str, dict[str, str]], manifest["files"])
    present = {str(path) for path in files}
    wanted = [svc for svc in services if _owns_files(svc, manifest, present)]
    # A file the manifest lists but the tree lacks would make its service's checks pass on
    # nothing (or be skipped with the service): say so instead, and run no tool on a partial set.
    missing: dict[str, list[str]] = {}
    for path, entry in sorted(files.items()):
        if not (root / path).is_file():
            missing.setdefault(entry["service"], []).append(path)
    results: list[CheckResult] = []
    for svc in wanted:
        if svc.name in missing:
            results.append(CheckResult(
                svc.name, f"files listed in {MANIFEST}", False,
                "\n".join(f"missing: {path}" for path in missing[svc.name]),
                note="render the tree again: carine render SITE --root DIR"))
        else:
            results += svc.check(root, layout)
    return results


def _owns_files(svc: Service, manifest: dict[str, object], present: set[str]) -> bool:
    files = cast(dict[str, dict[str, str]], manifest["files"])
    return any(files[path]["service"] == svc.name for path in present)
