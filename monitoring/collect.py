"""Read the appliance's state at scrape time into metric families: daemons, configuration,
filtering counters and lists, DNS refusals, probe results, certificates, disk. Cheap file reads."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cryptography import x509
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from appliance.clock import SYSTEM, Clock
from appliance.render.units import pid_file
from monitoring import access_metrics
from monitoring.catalogue import BY_NAME
from monitoring.probes import RESULTS
from monitoring.probes.metrics import probe_families


@dataclass(frozen=True)
class Paths:
    """Where the appliance keeps what the exporter reads (from monitoring.json)."""

    uai: str
    state: Path
    run: Path
    log: Path
    manifest: Path
    daemons: tuple[str, ...]

    @classmethod
    def from_config(cls, doc: dict[str, Any]) -> Paths:
        return cls(doc["uai"], Path(doc["state"]), Path(doc["run"]), Path(doc["log"]),
                   Path(doc["manifest"]), tuple(doc["daemons"]))


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _gauge(name: str, extra: tuple[str, ...] = ()) -> GaugeMetricFamily:
    spec = BY_NAME[name]
    return GaugeMetricFamily(name, spec.help, labels=("uai", *spec.labels, *extra))


def _counter(name: str) -> CounterMetricFamily:
    spec = BY_NAME[name]
    return CounterMetricFamily(name.removesuffix("_total"), spec.help,
                               labels=("uai", *spec.labels))


def _alive(pidfile: Path) -> bool:
    """Whether the PID recorded in ``pidfile`` runs: a process that died and is not yet reaped
    by its parent (a zombie) does not."""
    try:
        pid = int(pidfile.read_text().split()[0])
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ValueError, IndexError):
        return False
    return state not in ("Z", "X")


def _storage_families(doc: Any, uai: str) -> Iterator[Metric]:
    """carine_storage_* from the snapshot the storage daemon writes (storage/metrics.py)."""
    cats = doc.get("categories", {}) if isinstance(doc, dict) else {}
    for name, key in (("carine_storage_used_bytes", "used"),
                      ("carine_storage_quota_bytes", "quota"),
                      ("carine_storage_files", "files"),
                      ("carine_storage_users_warned", "warned")):
        family = _gauge(name)
        for category, row in sorted(cats.items()):
            family.add_metric([uai, category], float(row.get(key, 0)))
        yield family
    refusals = _counter("carine_storage_refusals_total")
    for reason, n in sorted((doc.get("refusals", {}) if isinstance(doc, dict) else {}).items()):
        refusals.add_metric([uai, reason], float(n))
    yield refusals


class ApplianceCollector(Collector):
    """Collects every metric the appliance has data for, labelled with its UAI."""

    def __init__(self, paths: Paths, probes: bool = True, clock: Clock = SYSTEM) -> None:
        """``probes``: also the probe families (the exporter serves them from a ProbeBlock);
        ``clock``: where ages and expiries are measured from."""
        self.p, self.probes, self.clock = paths, probes, clock
        # The journal lives in the state folder (/var/lib/carine/journal on the appliance).
        self.journal = access_metrics.JournalGauges(paths.state / "journal")
        try:
            self.version = version("carine")
        except PackageNotFoundError:
            self.version = "unknown"

    def _storage(self, uai: str) -> Iterator[Metric]:
        yield from _storage_families(_json(self.p.state / "storage" / "metrics.json"), uai)

    def collect(self) -> Iterator[Metric]:
        uai = self.p.uai
        info = InfoMetricFamily("carine_build", BY_NAME["carine_build_info"].help,
                                labels=("uai",))
        info.add_metric([uai], {"version": self.version})
        yield info
        generation = _gauge("carine_config_generation")
        if self.p.manifest.exists():
            generation.add_metric([uai], self.p.manifest.stat().st_mtime)
        yield generation
        up = _gauge("carine_daemon_up")
        for daemon in self.p.daemons:
            # Where both runners (systemd, the lab's supervisor) record the daemon's main PID.
            up.add_metric([uai, daemon], float(_alive(pid_file(self.p.run, daemon))))
        yield up
        yield from self._filtering(uai)
        if self.probes:
            yield from self._probes(uai)
        yield from self._certificates(uai)
        yield self._wifi(uai)
        yield self._import_heartbeat(uai)
        yield access_metrics.logins(self.p.run, uai)
        yield access_metrics.sessions(self.p.state / "state.sqlite", uai, self.clock.time())
        yield from self.journal.families(uai, self.clock.time(), time.monotonic())
        yield from self._storage(uai)
        disk = _gauge("carine_disk_free_bytes")
        for path in (self.p.state, self.p.log):
            if path.exists():
                disk.add_metric([uai, str(path)], shutil.disk_usage(path).free)
        yield disk

    def _filtering(self, uai: str) -> Iterator[Metric]:
        decisions = _counter("carine_filter_decisions_total")
        totals: dict[tuple[str, str, str], float] = {}
        buckets: list[float] = []
        counts: list[float] = []
        latency_sum = 0.0
        for stats in (_json(p) for p in sorted((self.p.run / "filtering").glob("helper-*.json"))):
            if not isinstance(stats, dict):
                continue
            for row in stats.get("decisions", []):
                key = (row["profile"], row["category"], row["action"])
                totals[key] = totals.get(key, 0) + row["count"]
            buckets = stats.get("latency_buckets", buckets)
            row_counts = stats.get("latency_counts", [])
            counts = [a + b for a, b in zip(counts or [0] * len(row_counts), row_counts,
                                            strict=False)]
            latency_sum += stats.get("latency_sum", 0.0)
        for (profile, category, action), count in sorted(totals.items()):
            decisions.add_metric([uai, profile, category, action], count)
        yield decisions
        hist = HistogramMetricFamily("carine_filter_decision_seconds",
                                     BY_NAME["carine_filter_decision_seconds"].help,
                                     labels=("uai",))
        if counts:
            cumulative, running = [], 0.0
            for bound, count in zip([*buckets, float("inf")], counts, strict=False):
                running += count
                cumulative.append((str(bound) if bound != float("inf") else "+Inf", running))
            hist.add_metric([uai], cumulative, latency_sum)
        yield hist
        yield from self._lists(uai)

    def _lists(self, uai: str) -> Iterator[Metric]:
        status = _json(self.p.state / "filtering/generations/status.json") or {}
        age, domains = _gauge("carine_filter_lists_age_seconds"), \
            _gauge("carine_filter_lists_domains")
        created = status.get("generation_created")
        if created:
            from datetime import datetime

            age.add_metric([uai], self.clock.time() - datetime.fromisoformat(created).timestamp())
        if status.get("domains") is not None:
            domains.add_metric([uai], float(status["domains"]))
        yield age
        yield domains
        success = _gauge("carine_filter_update_last_success_timestamp_seconds")
        last = status.get("last_success")
        if last:
            from datetime import datetime

            success.add_metric([uai], datetime.fromisoformat(last).timestamp())
        yield success
        result = _gauge("carine_filter_update_last_result")
        if status.get("result"):
            for name in ("ok", "refused", "error"):
                result.add_metric([uai, name], float(status["result"] == name))
        yield result

    def _probes(self, uai: str) -> Iterator[Metric]:
        # The prober writes this file every round; results too old for their interval come out
        # as failures (probe_families), so a dead prober cannot pass for a healthy ENT.
        yield from probe_families(_json(self.p.run / RESULTS), uai, self.clock.time())

    def _wifi(self, uai: str) -> Metric:
        """Each access point's recorded radio state (network/wifi/store.py), read-only."""
        radio = _gauge("carine_wifi_radio_on")
        path = self.p.state / "state.sqlite"
        if not path.exists():
            return radio
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)
            try:
                rows = conn.execute("SELECT r.ap, COALESCE(e.room, ''), r.reason, r.radio_on "
                                    "FROM wifi_radio r LEFT JOIN wifi_radio_events e ON e.id = "
                                    "(SELECT MAX(id) FROM wifi_radio_events WHERE ap = r.ap) "
                                    "ORDER BY r.ap").fetchall()
            finally:
                conn.close()
        except sqlite3.Error:  # no Wi-Fi tables yet: nothing to say
            return radio
        for ap, room, reason, on in rows:
            radio.add_metric([uai, ap, room, reason], float(on))
        return radio

    def _import_heartbeat(self, uai: str) -> Metric:
        # Written by every `carine users import` run (appliance.imports.heartbeat): the time of
        # the last successful one. A run that fails leaves it where it was, so it ages and
        # CarineImportHeartbeatMissing fires; no series before the first successful import.
        from appliance.imports.heartbeat import last_success, read

        gauge = _gauge("carine_import_heartbeat_timestamp_seconds")
        when = last_success(read(self.p.state))
        if when is not None:
            gauge.add_metric([uai], when)
        return gauge

    def _certificates(self, uai: str) -> Iterator[Metric]:
        expiry = _gauge("carine_certificate_expiry_timestamp_seconds")
        for pem in sorted((self.p.state / "tls").glob("*.pem")):
            try:
                cert = x509.load_pem_x509_certificate(pem.read_bytes())
            except (OSError, ValueError):
                continue
            expiry.add_metric([uai, pem.stem], cert.not_valid_after_utc.timestamp())
        # 802.1X: the CA, the RADIUS server certificate, the CRL and each device certificate,
        # as `carine radius` keeps them (network/radius/certs.py).
        radius = _json(self.p.state / "radius/expiry.json")
        if isinstance(radius, dict):
            for label, when in sorted(radius.items()):
                expiry.add_metric([uai, str(label)], float(when))
        yield expiry
