"""Registered devices (D-AUT-1): printers, interactive boards, managed PCs, known by their MAC,
with an owner and a profile; they are let through the gate without a login."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from appliance.errors import CarineError
from appliance.site.base import NAME_RE
from network.portal.neighbours import normalise_mac

KINDS = ("printer", "board", "pc", "other")


@dataclass(frozen=True)
class Device:
    id: int
    mac: str
    name: str
    kind: str
    owner: str
    profile: str
    zone: str | None


_SELECT = "SELECT id, mac, name, kind, owner, profile, zone FROM devices"


def _check(name: str, kind: str, owner: str) -> None:
    if kind not in KINDS:
        raise CarineError(f"unknown device kind {kind!r}", f"one of: {', '.join(KINDS)}")
    for label, value in (("name", name), ("owner", owner)):
        if not value.strip() or len(value) > 64 or any(ch < " " for ch in value):
            raise CarineError(f"device {label} {value!r}: 1 to 64 characters on one line")


def add(conn: sqlite3.Connection, *, mac: str, name: str, kind: str, owner: str, profile: str,
        zone: str | None, by: str, now: float) -> Device:
    """Register a device (or re-activate one registered before)."""
    norm = normalise_mac(mac)
    if norm is None:
        raise CarineError(f"{mac!r} is not a MAC address", "e.g. 52:54:00:12:34:56")
    _check(name, kind, owner)
    if zone is not None and not NAME_RE.match(zone):
        raise CarineError(f"{zone!r} is not a zone name")
    with conn:
        conn.execute(
            "INSERT INTO devices (mac, name, kind, owner, profile, zone, created_at, created_by)"
            " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(mac) DO UPDATE SET name = excluded.name, "
            "kind = excluded.kind, owner = excluded.owner, profile = excluded.profile, "
            "zone = excluded.zone, state = 'active'",
            (norm, name.strip(), kind, owner.strip(), profile, zone, now, by))
    found = by_mac(conn, norm)
    assert found is not None
    return found


def by_mac(conn: sqlite3.Connection, mac: str) -> Device | None:
    norm = normalise_mac(mac)
    if norm is None:
        return None
    row = conn.execute(_SELECT + " WHERE mac = ? AND state = 'active'", (norm,)).fetchone()
    return Device(*row) if row else None


def active(conn: sqlite3.Connection) -> dict[str, Device]:
    """Every active device by MAC."""
    return {row[1]: Device(*row) for row in
            conn.execute(_SELECT + " WHERE state = 'active' ORDER BY name")}


def remove(conn: sqlite3.Connection, mac: str) -> Device:
    """Deactivate a device (kept for the journal's sake: its sessions name it)."""
    found = by_mac(conn, mac)
    if found is None:
        raise CarineError(f"no registered device with MAC {mac}", "see: carine devices list")
    with conn:
        conn.execute("UPDATE devices SET state = 'deactivated' WHERE id = ?", (found.id,))
    return found
