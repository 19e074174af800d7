"""NAT records from conntrack: which internal client (ip:port) left through which public address
and port, to which destination. Each connection is recorded once, when first seen (its id)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from appliance.journal.records import canonical
from appliance.run import run

Row = tuple[int, str, tuple[object, ...]]
_PAIR = re.compile(r"(\w+)=(\S+)")
_STAMP = re.compile(r"^\s*\[(\d+)\.(\d+)\]")


def parse(line: str, now: int) -> tuple[str | None, Row] | None:
    """One `conntrack -L -o id` or `conntrack -E -o timestamp,id` line whose reply direction was
    source-NATed: (conntrack id, row). Lines without NAT (local traffic) give None."""
    words = line.split()
    if not words:
        return None
    proto = next((w for w in words if w in ("tcp", "udp", "icmp", "sctp")), None)
    original: dict[str, str] = {}
    reply: dict[str, str] = {}
    extra: dict[str, str] = {}
    for key, value in _PAIR.findall(line):
        if key in ("src", "dst", "sport", "dport"):
            # The first tuple is the original direction, the second the reply (after NAT).
            (original if key not in original else reply).setdefault(key, value)
        else:
            extra[key] = value
    if not {"src", "dst"} <= original.keys() or "dst" not in reply:
        return None
    if reply["dst"] == original["src"]:
        return None  # reply comes back to the client's own address: no SNAT
    stamp = _STAMP.match(line)
    at = int(stamp.group(1)) * 1_000_000 + int(stamp.group(2).ljust(6, "0")[:6]) if stamp else now
    port = int(reply["dport"]) if "dport" in reply else None
    fields = {"ip": original["src"], "port_in": _int(original.get("sport")),
              "dst": original["dst"], "dport": _int(original.get("dport")), "proto": proto,
              "pub_ip": reply["dst"], "pub_port": port}
    return extra.get("id"), (at, canonical(fields), (original["src"], None, None, reply["dst"],
                                                      port))


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


class NatPoller:
    """Polls the conntrack table (`conntrack -L`) and yields each NATed connection once."""

    def __init__(self, argv_prefix: tuple[str, ...] = ()) -> None:
        self.prefix = argv_prefix  # e.g. ("ip", "netns", "exec", NS) in the lab
        self.seen: set[str] = set()

    def poll(self, now: int) -> list[Row]:
        out = run([*self.prefix, "conntrack", "-L", "-n", "-o", "id"], timeout=30, check=False)
        return self.new_rows(out.stdout.splitlines(), now)

    def new_rows(self, lines: Iterable[str], now: int) -> list[Row]:
        rows, current = [], set()
        for line in lines:
            parsed = parse(line, now)
            if parsed is None:
                continue
            ident, row = parsed
            key = ident or row[1]
            current.add(key)
            if key not in self.seen:
                rows.append(row)
        self.seen = current  # forget connections that ended: ids are reused eventually
        return rows
