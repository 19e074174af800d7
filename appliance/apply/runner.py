"""ansible-runner, wrapped once: run ``playbooks/site.yml`` and read its event stream into typed
task events (shown as they come, per task and host) and a per-host summary.

Nothing else in CARINE imports ansible_runner; secrets stay out (``no_log`` tasks are censored)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import CarineError

# A checkout's playbooks/, else the Debian package's copy (debian/carine.install).
_CHECKOUT = Path(__file__).resolve().parent.parent.parent / "playbooks"
PLAYBOOKS = _CHECKOUT if _CHECKOUT.is_dir() else Path("/usr/share/carine/playbooks")
STATUS = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_skipped": "skipped",
          "runner_on_unreachable": "unreachable", "runner_item_on_failed": "failed"}


@dataclass(frozen=True)
class TaskEvent:
    """One task's outcome on one host."""

    host: str
    task: str
    status: str
    """``ok``, ``changed``, ``failed``, ``skipped``, ``unreachable`` (``rescued``: see summary)."""
    message: str = ""
    ignored: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class HostSummary:
    host: str
    ok: int = 0
    changed: int = 0
    failed: int = 0
    unreachable: int = 0
    skipped: int = 0
    rescued: int = 0

    @property
    def success(self) -> bool:
        return not (self.failed or self.unreachable or self.rescued)


@dataclass(frozen=True)
class Outcome:
    status: str
    hosts: tuple[HostSummary, ...]
    events: tuple[TaskEvent, ...] = field(default=())

    @property
    def success(self) -> bool:
        return self.status == "successful" and all(h.success for h in self.hosts)

    @property
    def changed(self) -> int:
        return sum(h.changed for h in self.hosts)


def task_event(event: Mapping[str, Any]) -> TaskEvent | None:
    """The task outcome an ansible-runner event reports, if it reports one."""
    kind = str(event.get("event", ""))
    if kind not in STATUS:
        return None
    data: Mapping[str, Any] = event.get("event_data", {})
    result: Mapping[str, Any] = data.get("res", {}) or {}
    status = STATUS[kind]
    if status == "ok" and result.get("changed"):
        status = "changed"
    message = ""
    if status in ("failed", "unreachable"):
        # A no_log task's result is censored by Ansible itself; we add nothing of it.
        parts = (result.get("msg", ""), result.get("stdout", ""), result.get("stderr", ""))
        message = "\n".join(str(p).strip() for p in parts if p)[-1500:]
    return TaskEvent(str(data.get("host", "?")), str(data.get("task", "?")), status, message,
                     bool(data.get("ignore_errors")), float(data.get("duration") or 0.0))


def _summary(stats: Mapping[str, Mapping[str, int]] | None) -> tuple[HostSummary, ...]:
    if not stats:
        return ()
    hosts = sorted({h for counts in stats.values() if isinstance(counts, dict) for h in counts})
    def count(kind: str, host: str) -> int:
        return int(stats.get(kind, {}).get(host, 0))
    return tuple(HostSummary(h, count("ok", h), count("changed", h),
                             count("failures", h), count("dark", h), count("skipped", h),
                             count("rescued", h)) for h in hosts)


def run_playbook(inventory: str | Path, extravars: Mapping[str, Any], *,
                 on_event: Callable[[TaskEvent], None] = lambda e: None,
                 limit: str | None = None, check: bool = False, playbooks: Path = PLAYBOOKS,
                 envvars: Mapping[str, str] | None = None) -> Outcome:
    """Run ``site.yml`` on ``inventory`` (a path, or an INI text) and report what happened."""
    try:
        import ansible_runner
    except ImportError as exc:
        raise CarineError("ansible-runner is not installed", "run `make install`") from exc
    events: list[TaskEvent] = []

    def handler(event: dict[str, Any]) -> bool:
        seen = task_event(event)
        if seen is not None:
            events.append(seen)
            on_event(seen)
        return True  # keep the event in the artifacts too

    with tempfile.TemporaryDirectory(prefix="carine-apply-") as private:
        env = {"ANSIBLE_HOST_KEY_CHECKING": "True", "ANSIBLE_RETRY_FILES_ENABLED": "False",
               "ANSIBLE_NOCOLOR": "1", "ANSIBLE_PIPELINING": "True",
               "ANSIBLE_ROLES_PATH": str(playbooks / "roles"), **(envvars or {})}
        runner = ansible_runner.run(
            private_data_dir=private, project_dir=str(playbooks), playbook="site.yml",
            inventory=str(inventory), extravars=dict(extravars), envvars=env,
            event_handler=handler, quiet=True, limit=limit,
            cmdline="--check --diff" if check else None)
        stats: Mapping[str, Mapping[str, int]] | None = runner.stats
        outcome = Outcome(str(runner.status), _summary(stats), tuple(events))
        said = "" if outcome.hosts or outcome.success else _tail(runner)
    if not outcome.hosts and not outcome.success:
        raise CarineError(f"ansible-playbook did not run ({outcome.status})" +
                          (f": {said}" if said else ""),
                          "is Debian's ansible-core installed? run `make install`")
    return outcome


def _tail(runner: Any, lines: int = 12) -> str:
    """The end of what ansible-playbook printed, to say why it did not run (a missing program,
    a playbook error); the task events carry the rest."""
    try:
        text = runner.stdout.read()
    except (AttributeError, OSError, ValueError):
        return ""
    return "\n".join(str(text).strip().splitlines()[-lines:])


def show(event: TaskEvent) -> None:
    """The progress line of one task on one host."""
    mark = {"ok": "ok     ", "changed": "changed", "failed": "FAILED ", "skipped": "skip   ",
            "unreachable": "UNREACH"}.get(event.status, event.status)
    line = f"  [{event.host}] {mark} {event.task}  ({event.seconds:.1f} s)"
    if event.message and not event.ignored:
        line += f"\n      {event.message.strip()}"
    print(line, flush=True)
