"""Probe results to the catalogue's ``carine_probe_*`` and ``carine_uplink_up`` families (pure).
A result older than three of its intervals is a failure: a dead prober is not a healthy ENT."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import GaugeMetricFamily

from monitoring.catalogue import BY_NAME
from monitoring.probes.results import STALE_INTERVALS, Check, from_doc

UPLINK_SERVICE = "uplink"


def _gauge(name: str) -> GaugeMetricFamily:
    spec = BY_NAME[name]
    return GaugeMetricFamily(name, spec.help, labels=("uai", *spec.labels))


def probe_families(doc: Any, uai: str, now: float) -> list[GaugeMetricFamily]:
    """Every probe family, from a parsed results file (None or garbage: empty families)."""
    return families(from_doc(doc), uai, now)


def fresh_until(checks: list[Check], now: float) -> float:
    """When the first of the results still fresh at ``now`` turns stale: until then (and until
    the file changes) the families of ``checks`` stay the same."""
    return min((c.timestamp + STALE_INTERVALS * c.interval for c in checks if not c.stale(now)),
               default=float("inf"))


def families(checks: list[Check], uai: str, now: float) -> list[GaugeMetricFamily]:
    """Every probe family, from the checks of a results file."""
    success = _gauge("carine_probe_success")
    duration = _gauge("carine_probe_duration_seconds")
    status = _gauge("carine_probe_http_status_code")
    first_byte = _gauge("carine_probe_http_first_byte_seconds")
    last_run = _gauge("carine_probe_last_run_timestamp_seconds")
    expiry = _gauge("carine_probe_tls_expiry_timestamp_seconds")
    uplink = _gauge("carine_uplink_up")
    expiries: dict[tuple[str, str], tuple[float, float]] = {}
    for check in checks:
        labels = [uai, *check.key]
        stale = check.stale(now)
        ok = check.success and not stale
        success.add_metric(labels, float(ok))
        last_run.add_metric(labels, check.timestamp)
        if check.service == UPLINK_SERVICE and check.check == "icmp":
            uplink.add_metric([uai], float(ok))
        if stale:
            continue  # old measurements would only mislead; success says why they are gone
        if check.duration is not None:
            duration.add_metric(labels, check.duration)
        if check.status is not None:
            status.add_metric(labels, float(check.status))
        if check.first_byte is not None:
            first_byte.add_metric(labels, check.first_byte)
        if check.tls_expiry is not None:
            # One series per target although both paths see the certificate: keep the newest.
            key = (check.service, check.target)
            if key not in expiries or expiries[key][0] < check.timestamp:
                expiries[key] = (check.timestamp, check.tls_expiry)
    for (service, target), (_, value) in sorted(expiries.items()):
        expiry.add_metric([uai, service, target], value)
    return [success, duration, status, first_byte, last_run, expiry, uplink]
