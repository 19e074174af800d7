"""Supervision for the académie (D-SUP-*): the Prometheus exporter of the appliance's health
and counters, the metric catalogue, and (with the supervision issue) probes, rules, dashboards."""
