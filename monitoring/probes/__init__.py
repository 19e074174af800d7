"""The prober "in the school" (D-SUP-1): pure logic (config, schedule, outcome, results, metrics)
kept apart from the I/O (dnsprobe, http, tlscheck, icmp) and the daemon, ``carine-prober``."""

RESULTS = "monitoring/probes.json"
"""Where the prober writes its results, relative to the run directory."""
