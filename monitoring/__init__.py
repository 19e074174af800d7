"""Supervision for the académie (D-SUP-*): the exporter of the appliance's health and counters,
the metric catalogue, the prober, alert rules, dashboards, the fleet inventory and reports."""
