"""A RADIUS request as rlm_python3 hands it over (lists of (attribute, value) pairs), and the
small value helpers the backend needs: MAC normalisation, VLAN reply attributes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from network.mac import normalise_mac as normalise_mac

Pairs = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Request:
    """The lists of one request (``pass_all_vps_dict = yes``): request, reply, config..."""

    lists: Mapping[str, Sequence[Sequence[str]]]

    def get(self, name: str, where: str = "request") -> str | None:
        for pair in self.lists.get(where) or ():
            if pair[0] == name:
                return _unquote(pair[-1])
        return None

    def has(self, name: str, where: str = "request") -> bool:
        return self.get(name, where) is not None

    @property
    def stage(self) -> str:
        """Where FreeRADIUS called us: outer, inner or tls (set by the rendered sites)."""
        return self.get("Tmp-String-0", "config") or "outer"

    @property
    def rejecting(self) -> bool:
        return self.get("Tmp-String-1", "config") == "reject"

    def mac(self) -> str | None:
        """The client's MAC (Calling-Station-Id), normalised."""
        return normalise_mac(self.get("Calling-Station-Id") or "")

    def nas(self) -> str:
        return self.get("NAS-IP-Address") or self.get("Packet-Src-IP-Address") or ""


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def vlan_reply(vlan: int | None) -> Pairs:
    """RFC 2868 attributes that put the client in ``vlan`` (none when the profile has none)."""
    if vlan is None:
        return ()
    return (("Tunnel-Type", "VLAN"), ("Tunnel-Medium-Type", "IEEE-802"),
            ("Tunnel-Private-Group-Id", str(vlan)))


CLASS_PREFIX = "carine:"


def class_for(kind: str, ident: str) -> str:
    """The Class attribute of an Access-Accept; the access point echoes it in accounting, which
    is how a session learns who it is even behind an anonymous outer identity."""
    return f"{CLASS_PREFIX}{kind}:{ident}"


def parse_class(value: str | None) -> tuple[str, str] | None:
    """(kind, ident) from a Class we gave, or None. FreeRADIUS hands octets over as 0x...hex."""
    if not value:
        return None
    if value.startswith("0x"):
        try:
            value = bytes.fromhex(value[2:]).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    if not value.startswith(CLASS_PREFIX):
        return None
    kind, _, ident = value[len(CLASS_PREFIX):].partition(":")
    return (kind, ident) if kind in ("u", "d") and ident else None
