"""Set membership of the firewall gate: the nft batch that authorises or removes clients, and
the reading of what the kernel still holds. Client data enters nft only as parsed IPv4s."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address

from appliance.errors import CarineError
from appliance.run import Result, run
from network.portal.batcher import Batcher
from network.portal.rules import AUTHORISED

TABLE = "inet carine"
PRUNE_AT = 4096  # remembered grant times: enough for a burst, pruned past it
PRUNE_SECONDS = 60.0
Runner = Callable[[Sequence[str], str], Result]


@dataclass(frozen=True)
class Grant:
    """Put ``ip`` in the gate for ``seconds`` (its idle timeout, or the session's end), and in
    its idle class set until the session's absolute end."""

    ip: IPv4Address
    seconds: int
    idle_set: str | None = None
    lifetime: int = 0


def _ip(value: IPv4Address | str) -> IPv4Address:
    # Whatever reaches here is re-parsed: only a dotted quad can be written into the batch.
    try:
        return IPv4Address(str(value))
    except ValueError as exc:
        raise CarineError(f"{value!r} is not an IPv4 address: not written to the firewall") \
            from exc


def _set(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise CarineError(f"{name!r} is not a set name")
    return name


def batch(grants: Sequence[Grant] = (), revokes: Sequence[IPv4Address | str] = (),
          idle_sets: Sequence[str] = ()) -> str:
    """One nft transaction: every grant replaces the address's element (a new timeout), every
    revoke removes it from the gate and from ``idle_sets``. Adding before deleting makes the
    delete safe when the element is already gone (nft has no 'delete if present' here)."""
    lines: list[str] = []

    def replace(set_name: str, ip: IPv4Address, seconds: int) -> None:
        lines.append(f"add element {TABLE} {set_name} {{ {ip} timeout 1s }}")
        lines.append(f"delete element {TABLE} {set_name} {{ {ip} }}")
        lines.append(f"add element {TABLE} {set_name} {{ {ip} timeout {max(1, seconds)}s }}")

    for grant in grants:
        ip = _ip(grant.ip)
        replace(AUTHORISED, ip, int(grant.seconds))
        for name in idle_sets:  # a new session may change the class of the address
            if name != grant.idle_set:
                lines.append(f"add element {TABLE} {_set(name)} {{ {ip} timeout 1s }}")
                lines.append(f"delete element {TABLE} {_set(name)} {{ {ip} }}")
        if grant.idle_set:
            replace(_set(grant.idle_set), ip, int(grant.lifetime or grant.seconds))
    for value in revokes:
        ip = _ip(value)
        for name in (AUTHORISED, *idle_sets):
            lines.append(f"add element {TABLE} {_set(name)} {{ {ip} timeout 1s }}")
            lines.append(f"delete element {TABLE} {_set(name)} {{ {ip} }}")
    return "\n".join(lines) + "\n" if lines else ""


def _nft(argv: Sequence[str], text: str) -> Result:
    return run(list(argv), input_text=text, check=False, timeout=30)


class NftSets:
    """The gate's sets in the current network namespace, through `nft -f -` batches.

    ``batched``: concurrent changes share nft transactions (the portal daemon, whose threads
    log clients in at once); otherwise each change runs its own (commands, tests)."""

    def __init__(self, idle_sets: Sequence[str], runner: Runner = _nft, *,
                 batched: bool = False) -> None:
        self.idle_sets = tuple(idle_sets)
        self.runner = runner
        self.batcher = Batcher(self._run) if batched else None
        self.lock = threading.Lock()
        # Address -> when its last grant reached the kernel (inf while it is on its way): the
        # loop must not take a session for idle because its grant came after the listing.
        self.granted: dict[str, float] = {}

    def apply(self, grants: Sequence[Grant] = (), revokes: Sequence[IPv4Address | str] = ()
              ) -> None:
        text = batch(grants, revokes, self.idle_sets)
        if not text:
            return
        ips = [str(_ip(g.ip)) for g in grants]
        with self.lock:
            for value in revokes:
                self.granted.pop(str(value), None)
            self.granted.update(dict.fromkeys(ips, math.inf))
        try:
            if self.batcher is not None:
                self.batcher.submit(text)
            else:
                self._run(text)
        except CarineError:
            with self.lock:
                for ip in ips:
                    self.granted.pop(ip, None)
            raise
        now = time.monotonic()
        with self.lock:
            for ip in ips:
                self.granted[ip] = now
            if len(self.granted) > PRUNE_AT:
                self.granted = {ip: at for ip, at in self.granted.items()
                                if at > now - PRUNE_SECONDS}

    def granted_since(self, ip: str, since: float) -> bool:
        """Whether a grant of ``ip`` is on its way or reached the kernel at or after ``since``
        (time.monotonic())."""
        with self.lock:
            return self.granted.get(ip, -math.inf) >= since

    def _run(self, text: str) -> None:
        result = self.runner(["nft", "-f", "-"], text)
        if not result.ok:
            raise CarineError(f"nft refused the portal's set change: {result.output()[-500:]}",
                              "is the CARINE ruleset loaded (nft list table inet carine)?")

    def members(self) -> tuple[int | None, dict[str, float]]:
        """The gate set's handle (it changes when the set is made anew) and its elements with
        the seconds each has left."""
        result = self.runner(["nft", "-j", "list", "set", *TABLE.split(), AUTHORISED], "")
        if not result.ok:
            return None, {}
        return parse_members(result.stdout)


def parse_members(text: str) -> tuple[int | None, dict[str, float]]:
    """(handle, {ip: seconds left}) from `nft -j list set` output."""
    doc = json.loads(text)
    for item in doc.get("nftables", []):
        found = item.get("set")
        if not found:
            continue
        members: dict[str, float] = {}
        for elem in found.get("elem", []):
            if isinstance(elem, str):
                members[elem] = float("inf")
            elif isinstance(elem, dict) and "elem" in elem:
                inner = elem["elem"]
                members[str(inner["val"])] = float(inner.get("expires", float("inf")))
        handle = found.get("handle")
        return (int(handle) if handle is not None else None), members
    return None, {}
