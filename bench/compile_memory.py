"""Compiling the lists in bounded memory: ``carine filter compile`` of 5 million domains against
``squidGuard -C all`` of the same tree, each under ``/usr/bin/time -v``, then our helper's own
footprint on that index.

    .venv/bin/python bench/compile_memory.py                       # 5M domains, 2 rounds (~6 min)
    .venv/bin/python bench/compile_memory.py --domains 500000 --rounds 1      # smoke (~40 s)

The tree is the real UT1 subset plus synthetic domains up to --domains (``carine filter
synth``). squidGuard builds one Berkeley DB per category for every category of the tree (the
same lists our index holds). Rounds alternate who goes first; the peak is /usr/bin/time -v's
"Maximum resident set size" of the compiling process. Then one helper maps the index and
decides --requests unrepeated requests (bench/trace.py): its VmHWM and VmRSS are printed (goal:
at most 100 MB). Goals of the compile: at most 256 MiB peak and 60 s. The last line is the
median of the per-round ratios of peak memory (ours / squidGuard)."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.run import run
from bench.common import mib, table, timed
from bench.helper_vs_squidguard import (
    CARINE,
    DEFAULT_LISTS,
    HELPER,
    KINDS,
    blocked_categories,
    ensure_squidguard,
    ours_block,
    ours_line,
    render_filtering,
    replay,
    source_tree,
    squidguard_conf,
)
from bench.trace import generate, read_trace

SITE = Path(__file__).resolve().parents[1] / "examples" / "site.yaml"
_PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_CPU = re.compile(r"(?:User|System) time \(seconds\): ([\d.]+)")
_WALL = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)")


def time_v(argv: list[str], log: Path) -> tuple[float, float, float]:
    """(wall seconds, peak resident MiB, CPU seconds) of ``argv`` as /usr/bin/time -v reports
    them (CPU counts on a busy machine, where wall time also holds the waits for a core)."""
    done = run(["/usr/bin/time", "-v", *argv], timeout=3600, check=False)
    text = done.output()
    log.write_text(text)
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(argv)}` failed ({done.returncode}):\n{text[-3000:]}")
    peak, wall = _PEAK.search(text), _WALL.search(text)
    if peak is None or wall is None:
        raise SystemExit(f"no /usr/bin/time -v figures in {log}")
    hours, minutes, seconds = wall.groups()
    cpu = sum(float(v) for v in _CPU.findall(text))
    return (int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), int(peak[1]) / 1024,
            cpu)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lists", type=Path, default=DEFAULT_LISTS, help="real UT1 tree or archive")
    p.add_argument("--domains", type=int, default=5_000_000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--requests", type=int, default=300_000,
                   help="unrepeated requests for the helper's footprint")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args(argv)
    if not Path("/usr/bin/time").is_file():
        raise SystemExit("/usr/bin/time is missing: apt-get install time")
    squidguard = ensure_squidguard()
    work = Path(tempfile.mkdtemp(prefix="carine-bench-compile-", dir="/var/tmp"))
    try:
        tree_out = work / "tree"
        real = source_tree(args.lists, work)
        timed([CARINE, "filter", "synth", "--lists", str(real), "--out", str(tree_out),
               "--domains", str(args.domains), "--seed", str(args.seed)], work / "synth.log")
        tree = tree_out / "blacklists"
        everything = sorted(d.name for d in tree.iterdir()
                            if d.is_dir() and any((d / k).is_file() for k in KINDS))
        lines = sum(sum(1 for _ in (tree / c / "domains").open("rb"))
                    for c in everything if (tree / c / "domains").is_file())
        print(f"tree: {len(everything)} categories, {lines:,} domain lines", flush=True)
        root = work / "root"
        index = root / "var/lib/carine/filtering/index.cidx"
        index.parent.mkdir(parents=True)
        rows: dict[str, list[tuple[float, float, float]]] = {"ours": [], "sg": []}
        for n in range(args.rounds):
            for key in (("ours", "sg") if n % 2 == 0 else ("sg", "ours")):
                if key == "ours":
                    figures = time_v([CARINE, "filter", "compile", "--lists", str(tree_out),
                                      "--out", str(index)], work / "compile.log")
                else:
                    shutil.rmtree(work / "sg", ignore_errors=True)
                    conf = squidguard_conf(tree, work / "sg", everything)
                    figures = time_v([squidguard, "-c", str(conf), "-C", "all"],
                                     work / "sg-build.log")
                rows[key].append(figures)
                print(f"round {n + 1}/{args.rounds} {key}: {figures[0]:.1f} s wall, "
                      f"{figures[2]:.1f} s CPU, {figures[1]:,.0f} MiB peak", flush=True)
        said = (work / "compile.log").read_text(errors="replace")
        print(said.split("Command being timed")[0].strip())

        # The helper's own footprint on this index, deciding a long tail of distinct requests.
        config = render_filtering(SITE, root)
        network, _, _ = blocked_categories(config, "pedago", tree)
        trace = work / "trace.txt"
        generate(tree_out, trace, args.requests, args.seed, network=network, repeat=False)
        run = replay("carine", [HELPER, "--config", str(config)],
                     [ours_line(r) for r in read_trace(trace)], 50, True, ours_block,
                     work / "helper.log")
        print(f"helper: {run.requests:,} unrepeated requests at {run.rate:,.0f} decisions/s",
              flush=True)

        def med(key: str, i: int) -> float:
            return statistics.median(r[i] for r in rows[key])

        print()
        print(table(["measure", "CARINE", "squidGuard 1.6"], [
            ["domain lines compiled", f"{lines:,}", f"{lines:,}"],
            ["compile wall time (s), median", f"{med('ours', 0):.1f}", f"{med('sg', 0):.1f}"],
            ["compile CPU time (s), median", f"{med('ours', 2):.1f}", f"{med('sg', 2):.1f}"],
            ["compile peak RSS (MiB), median", f"{med('ours', 1):,.0f}", f"{med('sg', 1):,.0f}"],
            ["index size (MiB)", f"{index.stat().st_size / 2**20:,.1f}",
             f"{sum(f.stat().st_size for f in (work / 'sg' / 'db').rglob('*.db')) / 2**20:,.1f}"],
            ["helper VmHWM / VmRSS (MiB) at the end", f"{mib(run.status['VmHWM'])} / "
             f"{mib(run.status['VmRSS'])}", "-"],
        ]))
        goal = "met" if med("ours", 1) <= 256 and med("ours", 0) <= 60 else "NOT met"
        print(f"goal (<= 256 MiB and <= 60 s wall for the compile): {goal}; load average "
              f"{os.getloadavg()[0]:.1f} at the end")
        ratios = [o[1] / s[1] for o, s in zip(rows["ours"], rows["sg"], strict=True)]
        times = [o[0] / s[0] for o, s in zip(rows["ours"], rows["sg"], strict=True)]
        print(f"ratio compile time ours/squidGuard (median of rounds): "
              f"{statistics.median(times):.2f}")
        print(f"RATIO compile peak memory ours/squidGuard (median of {len(ratios)} rounds): "
              f"{statistics.median(ratios):.2f}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
