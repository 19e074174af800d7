"""One probe result (a row per service, target, check and path) and the results file's format,
written by the daemon and read back by the exporter. Pure."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

# What each check's duration measures (the dashboards and rules read them so):
#   dns   one A query to the resolver named by path (target: the host name)
#   tcp   direct: connect to the server; proxy: connect to Squid and, for https, until Squid
#         answers CONNECT (it has reached the server by then)
#   tls   the handshake alone (verifying chain and name; expiry reported even when refused)
#   http  the whole page as a client waits for it: from the lookup (direct) or from the connection
#         to Squid (proxy) to the last byte; first_byte on the same clock. 2xx/3xx succeed, or
#         2xx containing `expect`. The login page is a second http row, its URL as target.
#   icmp  mean echo round trip to the uplink gateway (service "uplink", target: its address)
CheckKind = Literal["dns", "tcp", "tls", "http", "icmp"]
# direct|proxy for tcp, tls and http; appliance|upstream (which resolver) for dns; direct for icmp.
PathLabel = Literal["direct", "proxy", "appliance", "upstream"]

FORMAT = 1
STALE_INTERVALS = 3  # a result older than this many intervals no longer counts as a success


@dataclass(frozen=True)
class Check:
    """The last outcome of one check of one target along one path."""

    service: str
    target: str
    check: str
    path: str
    success: bool
    timestamp: float
    interval: float
    duration: float | None = None
    status: int | None = None
    first_byte: float | None = None
    tls_expiry: float | None = None
    chain_valid: bool | None = None
    name_match: bool | None = None
    objective: float | None = None
    error: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.service, self.target, self.check, self.path)

    def stale(self, now: float) -> bool:
        """Too old to be believed: the prober stopped, or this probe no longer runs."""
        return now - self.timestamp > STALE_INTERVALS * self.interval

    def meets_objective(self) -> bool | None:
        """Whether a page came within its time objective (None: no objective for this row)."""
        if self.objective is None or self.check != "http":
            return None
        return self.success and self.duration is not None and self.duration <= self.objective


@dataclass(frozen=True)
class Hop:
    """One step of the path trace beyond the uplink gateway."""

    ttl: int
    address: str | None
    rtt: float | None


def to_doc(checks: list[Check], trace: dict[str, Any] | None, written: float) -> dict[str, Any]:
    """The results file's content."""
    rows = []
    for check in sorted(checks, key=lambda c: c.key):
        row = {k: v for k, v in asdict(check).items() if v is not None}
        met = check.meets_objective()
        if met is not None:
            row["objective_met"] = met
        rows.append(row)
    return {"format": FORMAT, "written": written, "checks": rows, "trace": trace}


_FIELDS = {f.name for f in fields(Check)}


def from_doc(doc: Any) -> list[Check]:
    """The checks of a results file; rows that do not parse are skipped, never fatal."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        return []
    out = []
    for row in doc.get("checks", []):
        if not isinstance(row, dict):
            continue
        try:
            out.append(Check(**{k: v for k, v in row.items() if k in _FIELDS}))
        except TypeError:
            continue
    return out
