"""What the benchmarks share: starting processes with pipes, reading their memory, tables.

Product code starts programs through appliance.run (to completion, or detached); a benchmark
also needs pipes to a running helper and the resource usage of one child, hence this module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The one place the benchmarks hold pipes to a child (ruff bans it elsewhere, for good reason).
Popen = subprocess.Popen  # noqa: TID251

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def popen(argv: Sequence[str], **kwargs: Any) -> Popen[bytes]:
    """A child with pipes (appliance.run has none: it runs tools to completion)."""
    return Popen(list(argv), **kwargs)


@dataclass(frozen=True)
class Timed:
    """How one finished program went: wall time, CPU time, peak memory (its own, not ours)."""

    seconds: float
    cpu: float
    max_rss_mib: float
    returncode: int


def timed(argv: Sequence[str], log: Path, env: dict[str, str] | None = None,
          check: bool = True) -> Timed:
    """Run ``argv`` to completion, output to ``log``; measure it alone (os.wait4)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("wb") as out:
        proc = popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                     env=None if env is None else {**os.environ, **env})
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if check and code != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise SystemExit(f"`{' '.join(argv)}` failed with exit code {code}:\n{tail}")
    return Timed(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code)


def proc_status(pid: int) -> dict[str, int]:
    """The memory lines of /proc/PID/status, in kB (VmHWM, VmRSS, RssAnon, RssFile...)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.startswith(("Vm", "Rss")) and value.strip().endswith("kB"):
            out[key] = int(value.split()[0])
    return out


def proc_cpu(pid: int, stat: str = "") -> float:
    """CPU seconds (user + system) used so far by ``pid`` (all its threads), or by the task
    whose ``stat`` file is given (one thread: /proc/PID/task/TID/stat)."""
    fields = Path(stat or f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(proc: Popen[bytes], grace: float = 5.0) -> None:
    """Stop a child we started, by its PID: SIGTERM, then SIGKILL after ``grace`` s."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def mib(kb: float) -> str:
    return f"{kb / 1024:,.1f}"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
