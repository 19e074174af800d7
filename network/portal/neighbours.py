"""The MAC address behind a client IP: the kernel's neighbour table first (the portal runs on
the appliance, in the zone's broadcast domain), then dnsmasq's leases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from network.mac import normalise_mac as normalise_mac

ARP = Path("/proc/net/arp")


@dataclass(frozen=True)
class Lease:
    expires: float
    mac: str
    ip: str
    hostname: str


def read_leases(path: Path) -> list[Lease]:
    """dnsmasq's lease file: ``expiry mac ip hostname client-id`` per line."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or not parts[0].isdigit():
            continue
        mac = normalise_mac(parts[1])
        if mac is not None:
            out.append(Lease(float(parts[0]), mac, parts[2], parts[3]))
    return out


def mac_of(ip: str, leases: Path | None = None, arp: Path = ARP) -> str | None:
    """The MAC the appliance sees behind ``ip`` now, or None."""
    try:
        lines = arp.read_text(encoding="ascii", errors="replace").splitlines()[1:]
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        # Flags 0x0 is an incomplete entry: the address did not answer.
        if len(parts) >= 4 and parts[0] == ip and parts[2] != "0x0":
            mac = normalise_mac(parts[3])
            if mac is not None:
                return mac
    if leases is not None:
        found = [lease.mac for lease in read_leases(leases) if lease.ip == ip]
        if found:
            return found[-1]
    return None
