"""One apply, start to end: validate and render the site, let the real tools check its twin, stage
a generation, hand it to the playbook (through the runner), then make it current — or keep the
previous one current if the playbook rolled back. Rollback is an apply of the previous tree."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from appliance.apply.diff import Plan, is_secret, plan, units_doc
from appliance.apply.generations import SITE_FILE, Generation, Store, sha256, with_site
from appliance.apply.runner import Outcome, TaskEvent, run_playbook
from appliance.errors import CarineError
from appliance.render import Layout, check_tree
from appliance.render.pipeline import render_files
from appliance.site import Site, load_site

# Standalone checks of single files, run by Ansible's ``validate:`` on the new file before it
# replaces the old (the whole tree was judged before, by every service's checks on its twin).
VALIDATE = {
    "etc/nftables.conf": "nft -c -f %s",
    "etc/chrony/chrony.conf": "chronyd -p -f %s",
}
PACKAGES = ("nftables", "dnsmasq-base", "squid-openssl", "chrony", "freeradius",
            "freeradius-utils", "iproute2", "openssl")


@dataclass(frozen=True)
class Target:
    """Where the playbook runs: this machine, or hosts of an inventory over pinned SSH."""

    inventory: str
    limit: str | None = None
    remote: bool = False

    @classmethod
    def local(cls) -> Target:
        return cls("localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3")


def check_generation(gen: Generation, site: Site) -> None:
    """Let the real tools judge the staged tree itself (through its twin: ``check_tree``)."""
    failed = [r for r in check_tree(gen.tree, site=site) if not r.ok]
    if failed:
        detail = "\n".join(f"  {r.service}: {r.command}\n    {r.output[-600:]}" for r in failed)
        raise CarineError(f"the real tools refused the rendered configuration:\n{detail}",
                          "nothing was applied; fix the site (carine check shows the same)")


def _readers(path: str, units: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """The units that take ``path`` (absolute), and how: the unit's own file restarts it."""
    out = []
    # A oneshot a timer starts runs at its time, not because it was installed.
    timed = {str(i.get("unit")) for i in units.values() if i.get("kind") == "timer"}
    for name, info in sorted(units.items()):
        if name in timed:
            continue
        if path == f"/etc/systemd/system/{name}":
            out.append({"unit": name, "action": "restarted"})
            continue
        reads = [str(r) for r in info.get("reads", [])]
        if info.get("kind") == "timer" or not any(
                path == r or path.startswith(r.rstrip("/") + "/") for r in reads):
            continue
        signal = info.get("reload", {}).get("kind") in ("signal", "command")
        action = "reloaded" if signal and info.get("kind") == "simple" else "restarted"
        out.append({"unit": name, "action": action})
    return out


def _b64(path: Path) -> str:
    """A file's bytes for the module that installs them (Ansible passes text)."""
    return base64.b64encode(path.read_bytes()).decode("ascii")


def file_items(gen: Generation, *, readers: bool = True) -> list[dict[str, Any]]:
    """What the playbook installs: each file, its mode, its check, the units that read it; and
    the site file itself, where the technician and the units that read it find it.

    ``readers=False`` on a first apply: nothing of CARINE runs yet, and the appliance's target
    starts every unit once its state is made (one call, instead of a restart per unit while
    their certificates and secrets do not exist yet)."""
    units = units_doc(gen.contents()) if readers else {}
    items = [{"path": str(SITE_FILE), "mode": "0644", "src": str(gen.folder / "site.yaml"),
              "content": _b64(gen.folder / "site.yaml"),
              "readers": _readers(f"/{SITE_FILE}", units)}]
    for path in sorted(gen.files):
        item: dict[str, Any] = {"path": path, "mode": "0600" if is_secret(PurePosixPath(path))
                                else "0644", "readers": _readers("/" + path, units),
                                "content": _b64(gen.tree / path)}
        if path in VALIDATE:
            item["validate"] = VALIDATE[path]
        items.append(item)
    return items


def extravars(gen: Generation, previous: Generation | None, *, check: bool,
              packages: bool) -> dict[str, Any]:
    units = units_doc(gen.contents())
    gone = sorted(set(previous.files) - set(gen.files)) if previous else []
    old_units = units_doc(previous.contents()) if previous else {}
    return {
        "carine_generation": gen.number, "carine_tree": str(gen.tree),
        "carine_files": file_items(gen, readers=previous is not None), "carine_removed": gone,
        "carine_stop": sorted(set(old_units) - set(units)),
        "carine_previous_tree": str(previous.tree) if previous else "",
        "carine_previous_files": file_items(previous) if previous else [],
        "carine_previous_removed": sorted(set(gen.files) - set(previous.files)) if previous
        else [],
        "carine_packages": list(PACKAGES) if packages else [],
        "carine_check": check,
    }


def apply_generation(store: Store, gen: Generation, previous: Generation | None,
                     target: Target, *, check: bool = False, packages: bool = True,
                     on_event: Callable[[TaskEvent], None] = lambda e: None,
                     envvars: Mapping[str, str] | None = None
                     ) -> Outcome:
    """Run the playbook for ``gen``; on success it becomes current (not in check mode)."""
    outcome = run_playbook(target.inventory, extravars(
        gen, previous, check=check, packages=packages),
        on_event=on_event, limit=target.limit, check=check, envvars=envvars)
    if check:
        return outcome
    if outcome.success:
        store.make_current(store.mark(gen, "applied"))
    elif gen.state == "staged":
        store.mark(gen, "failed")
    return outcome


def stage(store: Store, site_path: Path, now: datetime) -> tuple[Generation, Plan]:
    """Render ``site_path`` for this machine, stage it as a generation, let the tools judge it
    (a refused one is marked ``failed`` and never installed); what it changes."""
    site = load_site(site_path)
    files = render_files(site, Layout.system())
    text = site_path.read_text(encoding="utf-8")
    current = store.current()
    p = plan(current.installed() if current else {}, with_site(files, text))
    if current is not None and p.empty and current.site_sha256 == sha256(text):
        # The same bytes were judged by the tools when this generation was applied: apply it
        # again (the playbook puts back whatever drifted), without a new generation or check.
        return current, p
    gen = store.stage(files, uai=site.school.uai, timezone=site.school.timezone,
                      site_text=text, now=now)
    try:
        check_generation(gen, site)
    except CarineError:
        store.mark(gen, "failed")
        raise
    return gen, p


def summary(outcome: Outcome) -> str:
    lines = []
    for h in outcome.hosts:
        verdict = "ok" if h.success else "ROLLED BACK" if h.rescued else "FAILED"
        lines.append(f"{h.host}: {verdict}  ok={h.ok} changed={h.changed} failed={h.failed} "
                     f"unreachable={h.unreachable} rescued={h.rescued}")
    return "\n".join(lines)


def to_json(outcome: Outcome) -> str:
    return json.dumps([h.__dict__ for h in outcome.hosts])
