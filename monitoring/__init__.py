"""Supervision for the académie: probes of the ENT and national services, the Prometheus
exporter, alert rules and dashboards (D-SUP-*). Filled by the supervision issue."""
