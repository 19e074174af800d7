"""Namespaces, veth pairs, bridges and addresses for the lab, through iproute2.

Every name this module creates starts with ``carine-`` or lives inside a carine namespace."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from appliance.errors import CarineError
from appliance.run import Result, run


def ip(*args: str, check: bool = True) -> Result:
    return run(["ip", *args], check=check, timeout=30)


def in_ns(ns: str, argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> Result:
    """Run ``argv`` inside namespace ``ns``."""
    return run(["ip", "netns", "exec", ns, *argv], check=check, timeout=timeout)


def namespaces() -> set[str]:
    out = ip("netns", "list").stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def pids(ns: str) -> list[int]:
    """The processes living in namespace ``ns`` (ours: nothing else enters a carine- one)."""
    out = ip("netns", "pids", ns, check=False).stdout
    return [int(word) for word in out.split() if word.isdigit()]


def add_ns(ns: str) -> None:
    if ns not in namespaces():
        ip("netns", "add", ns)
    in_ns(ns, ["ip", "link", "set", "lo", "up"])


def del_ns(ns: str) -> None:
    if ns in namespaces():
        ip("netns", "del", ns)


def link_exists(name: str, ns: str | None = None) -> bool:
    argv = ["ip", "link", "show", name]
    result = in_ns(ns, argv, check=False) if ns else run(argv, check=False)
    return result.ok


def veth(a: str, a_ns: str | None, b: str, b_ns: str) -> None:
    """A veth pair with end ``a`` in ``a_ns`` (None: the host) and end ``b`` in ``b_ns``."""
    if link_exists(a, a_ns):
        return
    a_side = ["name", a] + (["netns", a_ns] if a_ns else [])
    ip("link", "add", *a_side, "type", "veth", "peer", "name", b, "netns", b_ns)


def bridge(ns: str, name: str) -> None:
    if not link_exists(name, ns):
        in_ns(ns, ["ip", "link", "add", name, "type", "bridge"])
    in_ns(ns, ["ip", "link", "set", name, "up"])


def enslave(ns: str, port: str, bridge_name: str) -> None:
    in_ns(ns, ["ip", "link", "set", port, "master", bridge_name])
    in_ns(ns, ["ip", "link", "set", port, "up"])


def address(ns: str, dev: str, cidr: str) -> None:
    in_ns(ns, ["ip", "addr", "replace", cidr, "dev", dev])
    in_ns(ns, ["ip", "link", "set", dev, "up"])


def wait_for(what: str, ready: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``ready`` until it holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while not ready():
        if time.monotonic() > deadline:
            raise CarineError(f"lab: {what} not ready after {timeout:.0f}s",
                              "see the logs under /run/carine-lab/log")
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def listening(ns: str, proto: str, port: int) -> bool:
    """Whether something in ``ns`` listens on ``proto`` port ``port``."""
    flag = "-Hltn" if proto == "tcp" else "-Hlun"
    result = in_ns(ns, ["ss", flag, f"sport = :{port}"], check=False)
    return result.ok and bool(result.stdout.strip())
