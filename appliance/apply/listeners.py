"""Which systemd unit holds a listening port: ``ss``'s processes for the port, each one's cgroup.

A port that answers proves nothing if another program holds it: ``carine ready`` asks that the
unit that declares the port is the one listening on it (a crash-looping unit never is)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from appliance.run import run

PID = re.compile(r"pid=(\d+)")


def listener_pids(port: int, udp: bool = False) -> set[int]:
    """The PIDs of the processes with a socket listening on (or, for UDP, bound to) ``port``."""
    out = run(["ss", "-Hlnp" + ("u" if udp else "t"), f"sport = :{port}"], check=False)
    return {int(p) for p in PID.findall(out.stdout)} if out.ok else set()


def unit_of(pid: int, proc: Path = Path("/proc")) -> str | None:
    """The unit whose cgroup holds ``pid`` (the last path element of its cgroup v2 line)."""
    try:
        text = (proc / str(pid) / "cgroup").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        path = line.split(":", 2)[-1]
        name = path.rstrip("/").rsplit("/", 1)[-1]
        if name.endswith((".service", ".scope")):
            return name
    return None


def held_by(unit: str, port: int, udp: bool = False,
            pids: Callable[[int, bool], set[int]] = listener_pids,
            owner: Callable[[int], str | None] = unit_of) -> tuple[bool, str]:
    """Whether ``unit`` holds ``port``; else who does, in words."""
    found = pids(port, udp)
    owners = {owner(pid) for pid in found}
    if unit in owners:
        return True, ""
    if not found:
        return False, "no process listens"
    others = ", ".join(sorted(o or "a process outside systemd" for o in owners))
    return False, f"held by {others}, not {unit}"
