"""What the lab created, recorded on disk before it is created, so ``down`` can undo a crash.

Processes are recorded with their start time: ``down`` stops a PID only if it is still ours."""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import CarineError


@dataclass
class Proc:
    """A process the lab started, by PID and kernel start time."""

    name: str
    node: str
    pid: int
    start: int
    argv: list[str]


@dataclass
class LabState:
    """The lab's record; saved after every change."""

    path: Path
    site: str = ""
    site_sha256: str = ""
    namespaces: list[str] = field(default_factory=list)
    host_links: list[str] = field(default_factory=list)
    netns_dirs: list[str] = field(default_factory=list)
    procs: list[Proc] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    ready: bool = False

    @classmethod
    def load(cls, path: Path) -> LabState:
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise CarineError(f"lab state {path} is damaged: {exc}",
                              "inspect it; remove carine-* namespaces with `ip netns del`") from exc
        procs = [Proc(**p) for p in data.pop("procs", [])]
        return cls(path, procs=procs, **data)

    def save(self) -> None:
        data = asdict(self)
        data.pop("path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(self.path)

    def intend(self, kind: str, name: str) -> None:
        """Record ``name`` before creating it: a crash in between still leaves a trace."""
        items: list[str] = getattr(self, kind)
        if name not in items:
            items.append(name)
            self.save()

    def add_proc(self, name: str, node: str, pid: int, argv: list[str]) -> Proc:
        proc = Proc(name, node, pid, start_time(pid) or 0, argv)
        self.procs.append(proc)
        self.save()
        return proc


def start_time(pid: int) -> int | None:
    """The kernel start time of ``pid`` (field 22 of /proc/PID/stat), None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces: fields after it follow the last ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(proc: Proc) -> bool:
    """Whether the recorded process still runs (same PID and same start time)."""
    started = start_time(proc.pid)
    if started is None or started != proc.start:
        return False
    try:
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop_all(procs: list[Proc], grace: float = 5.0) -> None:
    """SIGTERM every process that is still ours, then SIGKILL those left after ``grace`` s."""
    running = [p for p in procs if alive(p)]
    for proc in running:
        os.kill(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while any(alive(p) for p in running) and time.monotonic() < deadline:
        time.sleep(0.05)
    for proc in running:
        if alive(proc):
            os.kill(proc.pid, signal.SIGKILL)


def rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0
