"""Site file section of the legal journal: retention per kind of record (D-LOG-1, D-LOG-2) and
the optional TLS syslog collector of the académie or collectivité (D-LOG-5)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from appliance.site.base import Host, Port, Section

Days = int
Kind = Literal["session", "nat", "navigation", "auth", "admin", "read", "directory"]


class Retention(Section):
    """Days each kind of record is kept, then purged automatically (CPCE L34-1: one year)."""

    session: Days = Field(default=365, ge=1, le=3650)
    """Sessions: who had which address, when, authenticated how."""
    nat: Days = Field(default=365, ge=1, le=3650)
    """NAT: which internal client used which public address and port."""
    navigation: Days = Field(default=365, ge=1, le=3650)
    """Navigation: hosts visited through the proxy and the filtering decision."""
    auth: Days = Field(default=365, ge=1, le=3650)
    """Authentication successes and failures."""
    admin: Days = Field(default=365, ge=1, le=3650)
    """Administrative actions."""
    read: Days = Field(default=365, ge=1, le=3650)
    """Reads of the journal itself."""
    directory: Days = Field(default=365, ge=1, le=3650)
    """Directory changes (imports)."""


class Syslog(Section):
    """Forwarding of the journal over TLS syslog (RFC 5425) to a collector."""

    host: Host
    """Collector's name or address."""
    port: Port = 6514
    """Collector's port (6514 is syslog over TLS)."""
    ca_file: Path
    """CA certificate that signs the collector's certificate (the connection is refused
    otherwise)."""
    kinds: tuple[Kind, ...] = ("session", "nat", "auth", "admin", "read", "directory")
    """Kinds of records forwarded (navigation is voluminous; seals are always forwarded)."""


class JournalSettings(Section):
    """The legal journal (D-LOG-1..5)."""

    retention: Retention = Retention()
    """Retention in days per kind of record."""
    syslog: Syslog | None = None
    """Optional TLS syslog collector; none by default."""
