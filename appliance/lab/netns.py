"""Namespaces, veth pairs, bridges, addresses and routes for the lab, over netlink (pyroute2):
one socket per namespace instead of an `ip` process per step.

Every name this module creates starts with ``carine-`` or lives inside a carine namespace.
Programs still run inside a namespace with ``ip netns exec`` (``in_ns``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pyroute2 import IPRoute, NetlinkError, NetNS
from pyroute2 import netns as _netns

from appliance.errors import CarineError
from appliance.run import Result, run


def in_ns(ns: str, argv: Sequence[str], *, check: bool = True, timeout: float = 30) -> Result:
    """Run ``argv`` inside namespace ``ns``."""
    return run(["ip", "netns", "exec", ns, *argv], check=check, timeout=timeout)


@contextmanager
def _link(ns: str | None) -> Iterator[Any]:
    """A netlink socket in ``ns`` (None: the host's own namespace)."""
    sock: Any = NetNS(ns) if ns else IPRoute()
    try:
        yield sock
    except NetlinkError as exc:
        raise CarineError(f"lab: netlink in {ns or 'the host'}: {exc}",
                          "carine lab down, then up again") from exc
    finally:
        sock.close()


def _index(sock: Any, name: str) -> int | None:
    found = sock.link_lookup(ifname=name)
    return int(found[0]) if found else None


def _must(sock: Any, name: str, ns: str | None) -> int:
    index = _index(sock, name)
    if index is None:
        raise CarineError(f"lab: no link {name} in {ns or 'the host'}")
    return index


def namespaces() -> set[str]:
    return set(_netns.listnetns())


def pids(ns: str) -> list[int]:
    """The processes living in namespace ``ns`` (ours: nothing else enters a carine- one)."""
    return sorted(int(pid) for pid in _netns.ns_pids().get(ns, ()))


def add_ns(ns: str) -> None:
    if ns not in namespaces():
        _netns.create(ns)
    link_up(ns, "lo")


def del_ns(ns: str) -> None:
    if ns in namespaces():
        _netns.remove(ns)


def link_exists(name: str, ns: str | None = None) -> bool:
    with _link(ns) as sock:
        return _index(sock, name) is not None


def link_up(ns: str | None, name: str) -> None:
    with _link(ns) as sock:
        sock.link("set", index=_must(sock, name, ns), state="up")


def veth(a: str, a_ns: str | None, b: str, b_ns: str) -> None:
    """A veth pair with end ``a`` in ``a_ns`` (None: the host) and end ``b`` in ``b_ns``."""
    if link_exists(a, a_ns):
        return
    # The peer is born in its namespace: its name may already be taken in ``a_ns`` (an
    # appliance whose uplink is eth0 gives every client an eth0).
    with _link(a_ns) as sock:
        sock.link("add", ifname=a, kind="veth", peer={"ifname": b, "net_ns_fd": b_ns})


def bridge(ns: str, name: str) -> None:
    with _link(ns) as sock:
        if _index(sock, name) is None:
            sock.link("add", ifname=name, kind="bridge")
        sock.link("set", index=_must(sock, name, ns), state="up")


def enslave(ns: str, port: str, bridge_name: str) -> None:
    with _link(ns) as sock:
        sock.link("set", index=_must(sock, port, ns), master=_must(sock, bridge_name, ns),
                  state="up")


def address(ns: str, dev: str, cidr: str) -> None:
    """Set ``cidr`` (a.b.c.d/len) on ``dev`` (kept if there already) and bring it up."""
    ip, _, length = cidr.partition("/")
    with _link(ns) as sock:
        index = _must(sock, dev, ns)
        sock.addr("replace", index=index, address=ip, prefixlen=int(length or 32))
        sock.link("set", index=index, state="up")


def peer_address(ns: str | None, dev: str, local: str, peer: str) -> None:
    """``local``/32 with ``peer``/32 on ``dev``: one route, to the peer only; then up."""
    with _link(ns) as sock:
        index = _must(sock, dev, ns)
        sock.addr("replace", index=index, local=local, address=peer, prefixlen=32)
        sock.link("set", index=index, state="up")


def del_link(name: str, ns: str | None = None) -> None:
    with _link(ns) as sock:
        index = _index(sock, name)
        if index is not None:
            sock.link("del", index=index)


def default_route(ns: str, gateway: str) -> None:
    with _link(ns) as sock:
        sock.route("replace", dst="default", gateway=gateway)


def addresses(ns: str) -> list[tuple[str, str]]:
    """(link name, a.b.c.d/len) of every IPv4 address in ``ns``, loopback left out."""
    with _link(ns) as sock:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in sock.get_links()}
        return [(names.get(a["index"], "?"), f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
                for a in sock.get_addr(family=2) if names.get(a["index"]) != "lo"]


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
