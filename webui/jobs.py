"""Long runs the console starts with the CLI itself (`carine apply`, `carine filter update`,
`carine users import`): one at a time per kind, its output kept, its state read by the pages."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from appliance.errors import CarineError
from appliance.files import write_atomic
from appliance.run import spawn

KINDS = ("apply", "lists", "import")
LAUNCH_SECONDS = 30
TAIL = 60  # lines of output a page shows (the whole log stays in the job's folder)


class Busy(CarineError):
    """A run of this kind is still going."""


@dataclass(frozen=True)
class JobState:
    kind: str
    state: str
    """none, running, ok, failed."""
    actor: str = ""
    started: str = ""
    finished: str = ""
    returncode: int | None = None
    lines: int = 0
    tail: str = ""

    @property
    def running(self) -> bool:
        return self.state == "running"


def _alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie has finished


def _launching(folder: Path) -> bool:
    """Just started, detached: systemd-run has not run the runner (which writes pid) yet."""
    try:
        return not (folder / "pid").exists() and \
            time.time() - (folder / "job.json").stat().st_mtime < LAUNCH_SECONDS
    except OSError:
        return False


class Jobs:
    """The console's runs, one folder per kind under ``root``: job.json (what, who, when), pid,
    log, result.json (return code, end). ``carine`` is how to call the CLI; ``detach`` puts each
    run in a transient systemd unit of its own, so that an apply restarting the console's unit
    does not kill it."""

    def __init__(self, root: Path, carine: Sequence[str], *, detach: bool = False) -> None:
        self.root, self.carine, self.detach = root, tuple(carine), detach

    def folder(self, kind: str) -> Path:
        if kind not in KINDS:
            raise CarineError(f"unknown console job {kind!r}")
        return self.root / kind

    def read(self, kind: str) -> JobState:
        folder = self.folder(kind)
        try:
            job = json.loads((folder / "job.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return JobState(kind, "none")
        log = folder / "log"
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        lines = text.splitlines()
        base = dict(kind=kind, actor=str(job.get("actor", "")),
                    started=str(job.get("started", "")), lines=len(lines),
                    tail="\n".join(lines[-TAIL:]))
        try:
            result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if _alive(folder / "pid") or _launching(folder):
                return JobState(state="running", **base)  # type: ignore[arg-type]
            return JobState(state="failed", **base)  # type: ignore[arg-type]
        rc = int(result.get("returncode", 1))
        return JobState(state="ok" if rc == 0 else "failed", finished=str(
            result.get("finished", "")), returncode=rc, **base)  # type: ignore[arg-type]

    def start(self, kind: str, args: Sequence[str], actor: str, now: datetime) -> JobState:
        """Run ``carine ARGS`` in the background; refused while one of this kind runs."""
        if self.read(kind).running:
            raise Busy(f"a {kind} run is still going", "wait for it to end")
        folder = self.folder(kind)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        argv = [*self.carine, *args]
        write_atomic(folder / "job.json", json.dumps(
            {"argv": argv, "actor": actor, "started": now.isoformat()},
            indent=2) + "\n", 0o600)
        runner = [sys.executable, "-m", "webui.jobrun", str(folder)]
        log = folder / "log"
        if self.detach and shutil.which("systemd-run"):
            stamp = now.strftime("%Y%m%d%H%M%S")
            runner = ["systemd-run", "--quiet", "--collect", f"--unit=carine-console-{kind}-"
                      f"{stamp}", "-p", f"StandardOutput=append:{log}", "-p",
                      f"StandardError=append:{log}", "--setenv=PYTHONUNBUFFERED=1", "--", *runner]
        pid = spawn(runner, logfile=log, env={"PYTHONUNBUFFERED": "1"})
        if not self.detach:
            write_atomic(folder / "pid", f"{pid}\n", 0o600)
        return self.read(kind)
