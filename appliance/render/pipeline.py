"""Render a site into a tree: collect openings, run every renderer, write the tree atomically.

A new tree replaces the old one in one rename; the previous generation is kept beside it."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.render.service import RenderContext, Service, load_services
from appliance.render.systemd import render_units
from appliance.render.units import all_units
from appliance.site import Site

MANIFEST = PurePosixPath("etc/carine/rendered.json")


def render_files(
    site: Site, layout: Layout, services: Sequence[Service] | None = None
) -> dict[PurePosixPath, str]:
    """Every file of every service, by path inside the tree. Pure: writes nothing."""
    services = load_services() if services is None else services
    openings = tuple(o for svc in services for o in svc.openings(site))
    declared = tuple(all_units(services, site, layout))
    ctx = RenderContext(site=site, layout=layout, openings=openings, units=declared)
    files: dict[PurePosixPath, str] = {}
    owner: dict[PurePosixPath, str] = {}
    for svc in services:
        for absolute, content in svc.render(ctx).items():
            path = layout.tree_path(absolute)
            if path in files:
                # One owner per file: a service never writes another service's file.
                raise CarineError(f"{svc.name} and {owner[path]} both render {path}")
            files[path], owner[path] = content, svc.name
    # The units of every service, written by the core so that all share one hardening.
    for absolute, content in render_units(declared, layout,
                                           site.school.uai).items():
        path = layout.tree_path(absolute)
        if path in files:
            raise CarineError(f"{owner[path]} renders {path}, which is a unit file of the core")
        files[path], owner[path] = content, "units"
    files[MANIFEST] = _manifest(site, layout, files, owner)
    return files


def _manifest(site: Site, layout: Layout, files: dict[PurePosixPath, str],
              owner: dict[PurePosixPath, str]) -> str:
    entries = {
        str(path): {"service": owner[path],
                    "sha256": hashlib.sha256(content.encode()).hexdigest()}
        for path, content in sorted(files.items())
    }
    doc = {"uai": site.school.uai, "layout": layout.to_json(), "files": entries}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_tree(site: Site, root: Path, layout: Layout | None = None,
                services: Sequence[Service] | None = None) -> dict[PurePosixPath, str]:
    """Render ``site`` into ``root`` (replaced whole; the old one is kept as ``root.prev``).

    ``layout`` defaults to a self-contained tree under ``root``."""
    root = root.absolute()
    layout = Layout.in_tree(root) if layout is None else layout
    files = render_files(site, layout, services)
    if root.exists() and not root.is_dir():
        raise CarineError(f"{root} exists and is not a directory",
                          "give an empty or new directory, or a tree CARINE rendered before")
    if root.exists() and not (root / MANIFEST).exists() and any(root.iterdir()):
        raise CarineError(f"{root} exists and is not a rendered tree",
                          "give an empty or new directory, or a tree CARINE rendered before")
    staging = root.with_name(root.name + ".new")
    previous = root.with_name(root.name + ".prev")
    shutil.rmtree(staging, ignore_errors=True)
    for path, content in files.items():
        target = staging / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    if root.exists():
        shutil.rmtree(previous, ignore_errors=True)
        root.rename(previous)
    staging.rename(root)
    return files


def read_manifest(root: Path) -> dict[str, object]:
    """The manifest of a rendered tree, or a clear error if ``root`` is not one."""
    path = root / MANIFEST
    try:
        data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CarineError(f"{root} is not a rendered tree (no {MANIFEST})",
                          "render one first: carine render SITE --root DIR") from None
    except (OSError, ValueError) as exc:
        raise CarineError(f"cannot read {path}: {exc}",
                          "render the tree again: carine render SITE --root DIR") from exc
    files = data.get("files") if isinstance(data, dict) else None
    if not (isinstance(data, dict) and isinstance(data.get("layout"), dict)
            and isinstance(files, dict)
            and all(isinstance(f, dict) and "service" in f for f in files.values())):
        raise CarineError(f"{path} is not a CARINE manifest (no layout or files list)",
                          "render the tree again: carine render SITE --root DIR")
    return data
