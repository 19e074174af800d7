"""One normal form for MAC addresses, whatever wrote them: a switch's Calling-Station-Id
(``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff``, ``AABBCCDDEEFF``), dnsmasq, the kernel's neighbour
table, a technician or an import. netaddr's EUI-48 parses them; we keep ``aa:bb:cc:dd:ee:ff``."""

from __future__ import annotations

from netaddr import EUI, AddrFormatError, mac_unix_expanded


def eui(value: str) -> EUI | None:
    """The EUI-48 ``value`` spells, or None (not a MAC address, or the all-zero one)."""
    try:
        found = EUI(value.strip(), version=48, dialect=mac_unix_expanded)
    except (AddrFormatError, TypeError, ValueError):
        return None
    return found if int(found) else None


def normalise_mac(value: str) -> str | None:
    """``aa:bb:cc:dd:ee:ff`` (as the device registry and the sessions keep it), or None."""
    found = eui(value)
    return None if found is None else str(found)
