"""Let the real tools judge a rendered tree: nft -c, dnsmasq --test, squid -k parse, chronyd -p.

Each service knows its own checks; this module runs them all and collects the verdicts. A tree
rendered for the system (its files name /etc, /var/lib/carine...) is checked through its twin:
the same site rendered into a temporary tree, once the tree is shown to be exactly what that
site renders for the system, so that what is installed is what the tools judged."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.render.pipeline import MANIFEST, read_manifest, render_files, render_tree
from appliance.render.service import CheckResult, Service, load_services
from appliance.render.unitcheck import check_units
from appliance.site import Site


def check_tree(root: Path, services: Sequence[Service] | None = None,
               site: Site | None = None) -> list[CheckResult]:
    """Run every service's checks on the tree at ``root``; a tree rendered for installation
    elsewhere (``--for-system``) needs the ``site`` it was rendered from (see the docstring)."""
    root = root.absolute()
    manifest = read_manifest(root)
    try:
        layout = Layout.from_json(cast(dict[str, Any], manifest["layout"]))
    except KeyError as exc:
        raise CarineError(f"{root / MANIFEST} names no {exc} directory in its layout",
                          "render the tree again: carine render SITE --root DIR") from None
    if layout.config != root:
        if site is None:
            raise CarineError(
                f"{root} was rendered for installation under {layout.config}; its files refer "
                "to paths there, so the tools check it through its twin, rendered from its site",
                "give the site it was rendered from: carine check --root DIR --site SITE")
        return _check_twin(root, layout, site, services)
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
    if any(entry["service"] == "units" for entry in files.values()):
        results += check_units(root, layout)
    return results


def _owns_files(svc: Service, manifest: dict[str, object], present: set[str]) -> bool:
    files = cast(dict[str, dict[str, str]], manifest["files"])
    return any(files[path]["service"] == svc.name for path in present)


def _check_twin(root: Path, layout: Layout, site: Site,
                services: Sequence[Service] | None) -> list[CheckResult]:
    """Refuse ``root`` unless it is byte for byte what ``site`` renders for ``layout``; then
    check the same site rendered in place in a temporary tree, naming the system's paths."""
    expected = render_files(site, layout, services)
    differ = sorted(str(p) for p, text in expected.items()
                    if not (root / p).is_file() or (root / p).read_bytes() != text.encode())
    extra = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                   if p.is_file() and p.relative_to(root).as_posix() not in
                   {str(e) for e in expected})
    if differ or extra:
        shown = ", ".join([*differ[:5], *(f"{e} (not rendered)" for e in extra[:5])])
        raise CarineError(
            f"{root} is not what the site renders for {layout.config}: "
            f"{len(differ) + len(extra)} file(s) differ ({shown})",
            "render it again from this site: carine render SITE --root DIR --for-system")
    with tempfile.TemporaryDirectory(prefix="carine-twin-") as tmp:
        twin = Path(tmp) / "tree"
        render_tree(site, twin, services=services)
        results = check_tree(twin, services)
        # Say what was judged in the system's terms: the twin's paths are the system's.
        twin_layout = Layout.in_tree(twin)
        pairs = sorted(((str(getattr(twin_layout, f)), str(getattr(layout, f)))
                        for f in ("state", "run", "log")), key=lambda kv: -len(kv[0]))
        pairs.append((str(twin), str(layout.config).rstrip("/")))

        def system(text: str) -> str:
            for old, new in pairs:
                text = text.replace(old, new)
            return text

        same = CheckResult("tree", f"{root} is what the site renders for {layout.config}", True,
                           f"{len(expected)} files identical; the tools below judged its twin",
                           note="the twin: the same site rendered in a temporary tree")
        return [same, *(CheckResult(r.service, system(r.command), r.ok, system(r.output),
                                    system(r.note)) for r in results)]
