"""The portal's loop, every few seconds: close sessions whose gate element vanished (idle) or
whose time is up, put elements back after the set was made anew, end a session whose address
changed hands (another MAC), and let registered devices in as their leases appear."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from appliance.errors import CarineError
from appliance.sessions.store import Method, Session
from network.portal import devices
from network.portal.access import Access
from network.portal.neighbours import ARP, normalise_mac, read_leases

log = logging.getLogger("carine.portal")
GRACE = 1.0  # a session opened while the set was being listed is not idle yet
MIN_DEVICE_SECONDS = 60


def arp_table(path: Path = ARP) -> dict[str, str]:
    """IP -> MAC of the complete neighbour entries."""
    try:
        lines = path.read_text(encoding="ascii", errors="replace").splitlines()[1:]
    except OSError:
        return {}
    out = {}
    for line in lines:
        parts = line.split()
        if len(parts) >= 4 and parts[2] != "0x0":
            mac = normalise_mac(parts[3])
            if mac:
                out[parts[0]] = mac
    return out


class Keeper:
    def __init__(self, access: Access, arp: Path = ARP) -> None:
        self.access = access
        self.arp = arp
        self.handle: int | None = None

    def tick(self) -> None:
        try:
            self._devices()
            self._sessions()
        except CarineError as exc:
            log.error("portal loop: %s", exc.message)

    def _sessions(self) -> None:
        access = self.access
        listed_at = access.clock()
        listed_mono = time.monotonic()
        handle, members = access.sets.members()
        if handle is None:
            log.error("the firewall has no gate set: is the CARINE ruleset loaded?")
            return
        remade = self.handle is not None and handle != self.handle
        self.handle = handle
        now = access.clock()
        neighbours = arp_table(self.arp)
        again: list[Session] = []
        for s in access.own_sessions():
            if now >= s.expires_at:
                access.close(s, "timeout")
            elif s.mac and neighbours.get(s.ip, s.mac) != s.mac:
                access.close(s, "mac-changed")
            elif s.ip in members or access.sets.granted_since(s.ip, listed_mono):
                continue  # in the gate, or put there while (or after) the set was listed
            elif remade or s.started_at > listed_at - GRACE:
                again.append(s)
            else:
                access.close(s, "idle" if s.method is not Method.DEVICE else "lease-ended")
        if again:
            access.sets.apply([access.grant(s) for s in again])
            log.info("%d session(s) put back in the gate%s", len(again),
                     " after the set was made anew" if remade else "")

    def _devices(self) -> None:
        access, config = self.access, self.access.config
        known = devices.active(access.conn())
        now = access.clock()
        for lease in read_leases(config.leases):
            device = known.get(lease.mac)
            zone = config.zone_of(lease.ip)
            if device is None or zone is None or lease.expires <= now:
                continue
            if device.zone is not None and device.zone != zone.name:
                continue
            current = access.current(lease.ip)
            if current is not None and current.method is Method.DEVICE and \
                    current.mac == lease.mac and current.expires_at >= lease.expires - 60:
                continue  # already in, until about the end of this lease
            if current is not None and current.method is not Method.DEVICE:
                continue  # someone logged in on that address: theirs until it ends
            if current is not None:
                access.close(current, "lease-renewed")
            lifetime = max(MIN_DEVICE_SECONDS, int(lease.expires - now))
            access.open(method=Method.DEVICE, login=device.name, profile=device.profile,
                        ip=lease.ip, mac=lease.mac, zone=zone.name, idle=lifetime,
                        lifetime=lifetime, device_id=device.id)
        for s in access.own_sessions():  # a device removed from the register leaves at once
            if s.method is Method.DEVICE and s.mac not in known:
                access.close(s, "revoked")
