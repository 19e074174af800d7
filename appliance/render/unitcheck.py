"""systemd judges the rendered units, as the other tools judge their files: ``systemd-analyze
verify`` on every unit, ``systemd-analyze security --offline`` at most ``LIMIT`` for each."""

from __future__ import annotations

import re
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.service import CheckResult
from appliance.render.systemd import SYSTEMD
from appliance.run import run

LIMIT = 4.0
SCORE = re.compile(r"Overall exposure level for (\S+): (\d+\.\d+)")
# Offline, the target's own dependencies are not ours to judge.
THEIRS = ("multi-user.target", "network-online.target")


def scores(services: list[Path]) -> dict[str, float]:
    """Each unit's exposure score (0 best, 10 worst) by unit name."""
    result = run(["systemd-analyze", "security", "--offline=yes", "--no-pager",
                  *(str(u) for u in services)], check=False, timeout=120)
    return {name: float(score) for name, score in SCORE.findall(result.output())}


def check_units(tree: Path, layout: Layout) -> list[CheckResult]:
    folder = layout.etc(SYSTEMD)
    units = sorted(folder.glob("carine*.service")) + sorted(folder.glob("carine*.timer")) \
        + sorted(folder.glob("carine.target"))
    if not units:
        return []
    verify = run(["systemd-analyze", "verify", "--man=no", "--generators=no",
                  *(str(u) for u in units)], check=False, timeout=120)
    problems = [line for line in verify.output().splitlines()
                if line.strip() and not any(t in line for t in THEIRS)]
    out = [CheckResult("units", f"systemd-analyze verify {folder}/carine*",
                       verify.ok and not problems,
                       "\n".join(problems) or f"{len(units)} units verified")]
    services = [u for u in units if u.suffix == ".service"]
    found = scores(services)
    worst = {n: s for n, s in found.items() if s > LIMIT}
    missing = sorted({u.name for u in services} - set(found))
    shown = ", ".join(f"{n} {s:.1f}" for n, s in sorted(found.items(), key=lambda kv: -kv[1]))
    out.append(CheckResult(
        "units", f"systemd-analyze security --offline=yes (each at most {LIMIT})",
        not worst and not missing,
        (f"above {LIMIT}: {worst}\n" if worst else "")
        + (f"no score for: {', '.join(missing)}\n" if missing else "") + shown))
    return out
