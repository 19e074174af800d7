"""Every metric CARINE exports, in one place: the exporter serves exactly these, and the alert
rules, dashboards and tests refer to them by these names (all `carine_*`, all with `uai`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["gauge", "counter", "histogram", "info"]


@dataclass(frozen=True)
class Metric:
    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()


PROBE = ("service", "target", "check", "path")  # check: dns|tcp|tls|http|icmp; path: direct|proxy

METRICS = (
    Metric("carine_build_info", "info", "CARINE version on this appliance", ("version",)),
    Metric("carine_config_generation", "gauge",
           "Applied configuration: seconds since epoch of its rendering", ()),
    Metric("carine_daemon_up", "gauge", "1 when the daemon runs and answers", ("daemon",)),
    # Probes (D-SUP-1), one series per target, check and path.
    Metric("carine_probe_success", "gauge", "1 when the last probe succeeded", PROBE),
    Metric("carine_probe_duration_seconds", "gauge", "Duration of the last probe", PROBE),
    Metric("carine_probe_http_status_code", "gauge", "HTTP status of the last probe", PROBE),
    Metric("carine_probe_http_first_byte_seconds", "gauge", "Time to the first byte", PROBE),
    Metric("carine_probe_tls_expiry_timestamp_seconds", "gauge",
           "Expiry of the certificate the target presented", ("service", "target")),
    Metric("carine_probe_last_run_timestamp_seconds", "gauge", "When the probe last ran", PROBE),
    Metric("carine_uplink_up", "gauge", "1 when the uplink gateway answers ICMP echo", ()),
    Metric("carine_uplink_bytes_total", "counter", "Bytes on the uplink", ("direction",)),
    Metric("carine_uplink_errors_total", "counter", "Errors on the uplink", ("direction",)),
    # Filtering (D-SUP-2).
    Metric("carine_filter_decisions_total", "counter", "Filtering decisions",
           ("profile", "category", "action")),
    Metric("carine_filter_decision_seconds", "histogram", "Time to decide one request", ()),
    Metric("carine_filter_lists_age_seconds", "gauge", "Age of the filtering lists in force", ()),
    Metric("carine_filter_lists_domains", "gauge", "Domains in the filtering lists in force", ()),
    Metric("carine_filter_update_last_success_timestamp_seconds", "gauge",
           "When a list update last succeeded", ()),
    Metric("carine_filter_update_last_result", "gauge",
           "1 for the result of the last list update attempt", ("result",)),
    Metric("carine_dns_refused_total", "counter", "Names refused by the DNS views", ("view",)),
    # Access (filled by the access and Wi-Fi issues).
    Metric("carine_portal_logins_total", "counter", "Captive portal logins", ("result",)),
    Metric("carine_sessions_active", "gauge", "Authenticated sessions", ("method",)),
    Metric("carine_radius_requests_total", "counter", "RADIUS answers", ("result",)),
    Metric("carine_wifi_radio_on", "gauge", "1 when an access point's radio is on (D-WIF-3)",
           ("ap", "room", "reason")),
    # Operations.
    Metric("carine_certificate_expiry_timestamp_seconds", "gauge",
           "Expiry of the appliance's own certificates", ("certificate",)),
    Metric("carine_import_heartbeat_timestamp_seconds", "gauge",
           "Last directory import heartbeat (message de vie)", ()),
    Metric("carine_disk_free_bytes", "gauge", "Free space", ("path",)),
    # Storage (D-STO-2), per user category; per-user figures stay on the box.
    Metric("carine_storage_used_bytes", "gauge", "Bytes the users of a category use",
           ("category",)),
    Metric("carine_storage_quota_bytes", "gauge", "Sum of the quotas of a category",
           ("category",)),
    Metric("carine_storage_files", "gauge", "Files the users of a category own", ("category",)),
    Metric("carine_storage_users_warned", "gauge",
           "Users of a category past the quota warning", ("category",)),
    Metric("carine_storage_refusals_total", "counter",
           "Storage requests refused (quota, virus, rights, name, antivirus unavailable...)",
           ("reason",)),
    Metric("carine_journal_ok", "gauge",
           "1 when the connection journal is writable and its finished days are sealed", ()),
    Metric("carine_journal_last_append_timestamp_seconds", "gauge",
           "Last write to the journal's segments of a kind of record", ("kind",)),
    Metric("carine_journal_last_seal_timestamp_seconds", "gauge",
           "When the journal last sealed a day", ()),
    Metric("carine_journal_disk_bytes", "gauge", "Space the journal folder takes", ()),
)

BY_NAME = {m.name: m for m in METRICS}
