"""``carine ready``: is the appliance serving? Every carine-* daemon active and its declared
health check passing (a TCP port that accepts and is the unit's own, a UDP port bound by it, an
HTTP URL, a command).

Apply's last step and the image's first boot both ask this; the exit code is the answer."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.apply.listeners import held_by
from appliance.errors import CarineError
from appliance.run import run

UNITS = Path("/etc/carine/units.json")


@dataclass(frozen=True)
class Verdict:
    unit: str
    ok: bool
    detail: str


def _udp_bound(port: int) -> bool:
    out = run(["ss", "-Hlun", f"sport = :{port}"], check=False)
    return out.ok and bool(out.stdout.strip())


def health_ok(health: Mapping[str, Any]) -> tuple[bool, str]:
    """Run one declared health check once."""
    kind, host, port = health.get("kind"), str(health.get("host", "127.0.0.1")), \
        int(health.get("port", 0))
    timeout = float(health.get("timeout", 10.0))
    if kind == "tcp" and health.get("udp"):
        bound = _udp_bound(port)
        return bound, f"udp {port} {'bound' if bound else 'not bound'}"
    if kind == "tcp":
        try:
            with socket.create_connection((host, port), timeout=min(timeout, 3.0)):
                return True, f"tcp {host}:{port} accepts"
        except OSError as exc:
            return False, f"tcp {host}:{port}: {exc.strerror or exc}"
    if kind == "http":
        url = str(health.get("url"))
        try:
            with urllib.request.urlopen(url, timeout=min(timeout, 5.0)) as answer:  # noqa: S310
                return answer.status < 400, f"{url}: {answer.status}"
        except urllib.error.HTTPError as exc:
            return exc.code < 400, f"{url}: {exc.code}"
        except OSError as exc:
            return False, f"{url}: {exc}"
    argv = [str(a) for a in health.get("argv", [])]
    done = run(argv, check=False, timeout=timeout)
    return done.ok, f"`{' '.join(argv)}` exit {done.returncode}"


def _active(unit: str) -> tuple[bool, str]:
    out = run(["systemctl", "is-active", unit], check=False)
    return out.stdout.strip() == "active", out.stdout.strip() or out.stderr.strip()


def check_once(units: Mapping[str, Mapping[str, Any]],
               active: Callable[[str], tuple[bool, str]] = _active,
               health: Callable[[Mapping[str, Any]], tuple[bool, str]] = health_ok,
               holds: Callable[[str, int, bool], tuple[bool, str]] = held_by
               ) -> list[Verdict]:
    verdicts = []
    # A oneshot a timer starts is inactive between its runs: the timer is what must be up.
    timed = {str(i.get("unit")) for i in units.values() if i.get("kind") == "timer"}
    for name, info in sorted(units.items()):
        if name in timed:
            continue
        if info.get("kind") == "timer":
            ok, state = active(name)
            verdicts.append(Verdict(name, ok, f"timer {state}"))
            continue
        if info.get("kind") != "simple":
            ok, state = active(name)
            verdicts.append(Verdict(name, ok, state))
            continue
        ok, state = active(name)
        if not ok:
            verdicts.append(Verdict(name, False, state))
            continue
        check = info.get("health")
        if check is None:
            verdicts.append(Verdict(name, True, "active"))
            continue
        good, detail = health(check)
        if good and check.get("kind") == "tcp" and int(check.get("port", 0)):
            # The port must be this unit's: another program's answer is not its health.
            good, whose = holds(name, int(check["port"]), bool(check.get("udp")))
            detail = f"{detail}, but {whose}" if not good else detail
        verdicts.append(Verdict(name, good, f"active, {detail}"))
    return verdicts


def load_units(path: Path = UNITS) -> dict[str, dict[str, Any]]:
    try:
        doc: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CarineError(f"{path} is missing: nothing is applied on this machine",
                          "apply a site first: carine apply /etc/carine/site.yaml") from None
    except ValueError as exc:
        raise CarineError(f"{path} is damaged: {exc}", "apply the site again") from exc
    return doc


def wait_ready(units: Mapping[str, Mapping[str, Any]], wait: float,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> list[Verdict]:
    """Check until all pass or ``wait`` seconds went by; the last verdicts."""
    deadline = clock() + wait
    while True:
        verdicts = check_once(units)
        if all(v.ok for v in verdicts) or clock() >= deadline:
            return verdicts
        sleep(1.0)
