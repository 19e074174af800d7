"""What a probe measured, as result rows (pure). A probe that stops at one stage reports every
later check failed too, so each series exists from the first round and drops to 0 on a breakage."""

from __future__ import annotations

from dataclasses import dataclass, replace

from monitoring.probes.config import TargetSpec
from monitoring.probes.results import Check

STAGES = ("tcp", "tls", "http")


@dataclass
class Phases:
    """Filled in as one fetch goes: seconds since ``start`` at the end of each stage."""

    start: float
    stage: str = "tcp"
    tcp: float | None = None
    tls: float | None = None
    first_byte: float | None = None
    total: float | None = None
    status: int | None = None
    body: bytes = b""
    address: str | None = None
    cert_der: bytes | None = None
    verify_code: int | None = None
    error: str | None = None

    def fail(self, error: str) -> None:
        if self.error is None:
            self.error = error


@dataclass(frozen=True)
class CertInfo:
    """What the TLS stage learnt about the certificate (also when verification failed)."""

    expiry: float | None
    chain_valid: bool | None
    name_match: bool | None


def page_ok(status: int | None, body: bytes, expect: str | None) -> tuple[bool, str | None]:
    """Whether an answer counts as the page being there (and the reason when it does not)."""
    if status is None:
        return False, None
    if expect is not None:
        if not 200 <= status < 300:
            return False, f"HTTP {status}"
        if expect not in body.decode("utf-8", errors="replace"):
            return False, f"the page does not contain {expect!r}"
        return True, None
    # Without an expected text a redirect counts: portals send anonymous users to their login.
    return (True, None) if 200 <= status < 400 else (False, f"HTTP {status}")


def fetch_rows(service: str, url: str, path: str, ph: Phases, *, now: float, interval: float,
               objective: float | None, expect: str | None, cert: CertInfo | None,
               stages: tuple[str, ...] = STAGES) -> list[Check]:
    """Rows for the stages of one fetch (``stages``: which ones to report)."""
    order = [s for s in STAGES if s != "tls" or url.startswith("https:")]
    failed = order.index(ph.stage) if ph.error is not None and ph.stage in order else None
    rows = []
    for i, stage in enumerate(order):
        if failed is None:
            ok, why = (page_ok(ph.status, ph.body, expect) if stage == "http"
                       else (getattr(ph, stage) is not None, None))
        elif i < failed:
            ok, why = True, None
        elif i == failed:
            ok, why = False, ph.error
        else:
            ok, why = False, f"not reached ({ph.stage} failed)"
        if stage not in stages:
            continue
        row = Check(service, url, stage, path, ok, now, interval, error=None if ok else why)
        if stage == "tcp":
            row = replace(row, duration=ph.tcp)
        elif stage == "tls":
            row = replace(row, duration=ph.tls, tls_expiry=cert.expiry if cert else None,
                          chain_valid=cert.chain_valid if cert else None,
                          name_match=cert.name_match if cert else None)
        else:
            row = replace(row, duration=ph.total, status=ph.status, first_byte=ph.first_byte,
                          objective=objective)
        rows.append(row)
    return rows


def dns_row(t: TargetSpec, path: str, *, now: float, seconds: float | None,
            error: str | None) -> Check:
    return Check(t.name, t.host, "dns", path, error is None, now, t.interval,
                 duration=seconds, error=error)
