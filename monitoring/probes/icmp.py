"""ICMP echo to the uplink's gateway and a path trace beyond it, with scapy (raw sockets: root or
CAP_NET_RAW). Blocking: the daemon runs these in its thread pool."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitoring.probes.results import Hop

MAX_HOPS = 15


@dataclass(frozen=True)
class Echo:
    """How many echoes came back, and their mean round trip."""

    sent: int
    received: int
    rtt: float | None


def default_gateway(route_table: str) -> str | None:
    """The IPv4 default gateway in the text of /proc/net/route (the dhcp-mode uplink)."""
    for line in route_table.splitlines()[1:]:
        fields = line.split()
        if len(fields) >= 4 and fields[1] == "00000000" and int(fields[3], 16) & 0x2:
            return socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
    return None


def system_gateway(proc: Path = Path("/proc/net/route")) -> str | None:
    try:
        return default_gateway(proc.read_text(encoding="ascii"))
    except OSError:
        return None


def hops(answers: list[tuple[int, str, float, bool]], max_hops: int = MAX_HOPS) -> list[Hop]:
    """The path from (ttl, responder, rtt, reached) answers: one hop per TTL up to the
    destination, silent routers as hops without an address."""
    by_ttl = {ttl: (address, rtt, reached) for ttl, address, rtt, reached in answers}
    out: list[Hop] = []
    for ttl in range(1, max_hops + 1):
        if ttl not in by_ttl:
            out.append(Hop(ttl, None, None))
            continue
        address, rtt, reached = by_ttl[ttl]
        out.append(Hop(ttl, address, round(rtt, 6)))
        if reached:
            break
    while out and out[-1].address is None:  # nothing answered past the last responder
        out.pop()
    return out


def _rtt(sent: Any, received: Any) -> float:
    # scapy keeps times as its own Decimal type; sent_time is set once the packet left.
    return float(received.time) - float(sent.sent_time or received.time)


def ping(address: str, count: int = 3, timeout: float = 2.0) -> Echo:
    """ICMP echo requests to ``address``."""
    from scapy.layers.inet import ICMP, IP
    from scapy.sendrecv import sr

    packets = [IP(dst=address) / ICMP(id=0xCA21, seq=i) for i in range(1, count + 1)]
    answered, _ = sr(packets, timeout=timeout, verbose=0)
    rtts = [_rtt(snd, rcv) for snd, rcv in answered if rcv.haslayer(ICMP) and rcv[ICMP].type == 0]
    return Echo(count, len(rtts), sum(rtts) / len(rtts) if rtts else None)


def trace(destination: str, max_hops: int = MAX_HOPS, timeout: float = 2.0) -> list[Hop]:
    """Every TTL at once (as scapy's traceroute does): one round trip of waiting, not fifteen."""
    from scapy.layers.inet import ICMP, IP
    from scapy.sendrecv import sr

    packet = IP(dst=destination, ttl=(1, max_hops)) / ICMP(id=0xCA22)
    answered, _ = sr(packet, timeout=timeout, verbose=0)
    rows = [(int(snd.ttl), str(rcv.src), _rtt(snd, rcv),
             bool(rcv.haslayer(ICMP) and rcv[ICMP].type == 0)) for snd, rcv in answered]
    return hops(rows, max_hops)
