"""`carine lab up` and `carine lab down` wall times of two checkouts side by side (run as root):
this one and a baseline (e.g. the commit before pyroute2 replaced the `ip` calls), each round
alternating which goes first; the median of per-round ratios (this / baseline) is printed last.

    git -C . worktree add /tmp/carine-base COMMIT    # or: git archive COMMIT | tar -x -C DIR
    .venv/bin/python bench/lab_up_down.py --baseline /tmp/carine-base --rounds 3

Both run with this venv (the baseline's code first on PYTHONPATH, its compiled lane copied in),
under the lab tests' lock: no lab test runs meanwhile."""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.run import run

HERE = Path(__file__).resolve().parents[1]
LOCK = Path("/run/carine-lab-tests.lock")
LISTS = HERE.parent / "shared" / "data" / "ut1-subset.tar.xz"


def _carine(tree: Path, *argv: str) -> float:
    """Seconds ``carine ARGV`` took with ``tree``'s code; fails loudly on an error."""
    env = {"PYTHONPATH": str(tree), "CARINE_LAB_LISTS": os.environ.get("CARINE_LAB_LISTS",
                                                                        str(LISTS))}
    started = time.monotonic()
    done = run([sys.executable, "-m", "appliance.cli", *argv], env=env, cwd=tree, timeout=600,
               check=False)
    took = time.monotonic() - started
    if not done.ok:
        raise SystemExit(f"{tree}: carine {' '.join(argv)} failed:\n{done.output()[-2000:]}")
    return took


def _lane(baseline: Path) -> None:
    """The baseline checkout has no compiled lane of its own: give it this one's."""
    for built in (HERE / "filtering").glob("_fastpath*.so"):
        target = baseline / "filtering" / built.name
        if not target.exists():
            shutil.copy2(built, target)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", type=Path, required=True, help="checkout of the baseline")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--site", type=Path, default=HERE / "examples" / "site.yaml")
    args = p.parse_args()
    baseline = args.baseline.resolve()
    _lane(baseline)
    trees = {"baseline": baseline, "this": HERE}
    times: dict[str, dict[str, list[float]]] = {k: {"up": [], "down": []} for k in trees}
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _carine(HERE, "lab", "down")
        for n in range(args.rounds):
            order = ["baseline", "this"] if n % 2 == 0 else ["this", "baseline"]
            for name in order:
                up = _carine(trees[name], "lab", "up", str(args.site.resolve()))
                down = _carine(trees[name], "lab", "down")
                times[name]["up"].append(up)
                times[name]["down"].append(down)
                print(f"round {n + 1} {name:8}  up {up:6.2f} s  down {down:5.2f} s", flush=True)
    print(f"\n{'':10}{'baseline':>22}{'this':>22}")
    for step in ("up", "down"):
        old, new = times["baseline"][step], times["this"][step]
        print(f"lab {step:6}  median {statistics.median(old):7.2f} s "
              f"(min {min(old):6.2f})  median {statistics.median(new):7.2f} s "
              f"(min {min(new):6.2f})")
    for step in ("up", "down"):
        ratios = [b / a for a, b in zip(times["baseline"][step], times["this"][step],
                                        strict=True)]
        print(f"lab {step}: this/baseline, median of per-round ratios = "
              f"{statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
