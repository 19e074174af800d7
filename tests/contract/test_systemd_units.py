"""systemd judges the units the services declare: ``systemd-analyze verify`` accepts each, and
``systemd-analyze security --offline`` scores each at most 4.0 ("OK"); the scores are printed.

The units are rendered with the appliance's paths, except the programs, which point at this
installation's (so that verify finds every ExecStart binary on this machine)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.render import Layout, render_files
from appliance.render.layout import installed_programs
from appliance.run import run
from appliance.site import load_site
from tests.conftest import EXAMPLES, require_tool

pytestmark = pytest.mark.contract

EXAMPLE_SITES = sorted(EXAMPLES.glob("*.yaml"))
LIMIT = 4.0
SCORE = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+)")


def _units(example: Path, tmp_path: Path) -> list[Path]:
    system = Layout.system()
    layout = Layout(system.config, system.state, system.run, system.log, installed_programs())
    out = []
    for path, content in render_files(load_site(example), layout).items():
        if str(path).startswith("etc/systemd/system/carine"):
            target = tmp_path / path.name
            target.write_text(content, encoding="utf-8")
            out.append(target)
    return sorted(out)


@pytest.mark.parametrize("example", EXAMPLE_SITES, ids=lambda p: p.stem)
def test_systemd_accepts_and_scores_every_unit(example: Path, tmp_path: Path) -> None:
    require_tool("systemd-analyze")
    units = _units(example, tmp_path)
    services = [u for u in units if u.suffix == ".service"]
    assert services, "the example declares no unit"
    verify = run(["systemd-analyze", "verify", "--man=no", "--generators=no",
                  *(str(u) for u in units)], check=False, timeout=120)
    # Offline, the target's own dependencies (multi-user.target...) are not ours to judge.
    problems = [line for line in verify.output().splitlines()
                if line.strip() and "multi-user.target" not in line
                and "network-online.target" not in line]
    assert verify.ok and not problems, verify.output()
    result = run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                  *(str(u) for u in services)], check=False, timeout=120)
    scores = {name: float(score) for name, score in SCORE.findall(result.output())}
    assert set(scores) == {u.name for u in services}, result.output()[-2000:]
    print(f"\n{example.stem}: systemd-analyze security (exposure, lower is better, max {LIMIT}):")
    for name, score in sorted(scores.items(), key=lambda kv: -kv[1]):
        print(f"  {score:4.1f}  {name}")
    worst = {name: score for name, score in scores.items() if score > LIMIT}
    assert not worst, f"units above {LIMIT}: {worst}"


def test_carine_check_judges_the_units_and_fails_a_weakened_one(tmp_path: Path) -> None:
    require_tool("systemd-analyze")
    from appliance.render import render_tree
    from appliance.render.unitcheck import check_units

    root = tmp_path / "tree"
    render_tree(load_site(EXAMPLE_SITES[0]), root)
    layout = Layout.in_tree(root)
    assert all(r.ok for r in check_units(root, layout)), check_units(root, layout)
    unit = layout.etc("systemd/system/carine-squid.service")
    weak = [line for line in unit.read_text(encoding="utf-8").splitlines()
            if not line.startswith(("Protect", "Private", "Restrict", "SystemCall",
                                    "CapabilityBoundingSet", "NoNewPrivileges", "Memory"))]
    unit.write_text("\n".join(weak).replace("ExecStart=/usr/sbin/squid",
                                            "ExecStart=/nowhere/squid") + "\n", encoding="utf-8")
    verify, security = check_units(root, layout)
    assert not verify.ok and "/nowhere/squid" in verify.output
    assert not security.ok and "carine-squid.service" in security.output.split("\n")[0]
