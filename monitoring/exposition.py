"""The /metrics answer, fast: the probe families (most of the series) are formatted here once per
results file and kept until it changes; the few others go through prometheus_client each time."""

from __future__ import annotations

import gzip
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from monitoring.probes.metrics import families, fresh_until
from monitoring.probes.results import from_doc

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("carine.exporter")
EOF = b"# EOF\n"  # OpenMetrics' last line
# prometheus_client's formatter validates every label name character by character (~25 ms for
# 1,300 series on this machine's cores, tripled under load): the probe families carry only our
# own label names, so formatting them here is safe. Level 1 gzip: 1 ms instead of 5 for ~190 KB.
GZIP_LEVEL = 1


def _number(value: float) -> str:
    """Go's float format, as prometheus_client writes values (1.7e+09, +Inf, NaN)."""
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


def _value(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def format_gauges(metrics: Iterable[Metric], openmetrics: bool) -> str:
    """Gauge families as prometheus_client writes them (text 0.0.4 or OpenMetrics 1.0, without
    the final ``# EOF``), for legacy-valid metric and label names only."""
    out: list[str] = []
    for metric in metrics:
        if metric.type != "gauge" or metric.unit:
            raise ValueError(f"{metric.name}: only gauges without a unit are formatted here")
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        doc = doc.replace('"', r"\"") if openmetrics else doc
        out.append(f"# HELP {metric.name} {doc}\n# TYPE {metric.name} gauge\n")
        for s in metric.samples:
            labels = ",".join(f'{k}="{_value(v)}"' for k, v in sorted(s.labels.items()))
            out.append(f"{s.name}{{{labels}}} {_number(s.value)}\n" if labels
                       else f"{s.name} {_number(s.value)}\n")
    return "".join(out)


class ProbeBlock(Collector):
    """The probe families of one results file, formatted once per format, kept until the file
    changes or one of its results turns stale (then it reports a failure)."""

    def __init__(self, results: Path, uai: str, clock: Callable[[], float] = time.time) -> None:
        self.results, self.uai, self.clock = results, uai, clock
        self.lock = threading.Lock()
        self.key: tuple[int, int, int] | None = None
        self.until = -1.0
        self.metrics: list[Metric] = []
        self.text: dict[bool, bytes] = {}
        self.wanted: set[bool] = set()  # the formats scrapers asked for

    def _refresh(self) -> None:
        # Parsing and building happen outside the lock: a scrape arriving meanwhile answers
        # from the block already made instead of queueing behind the watcher.
        try:
            st = self.results.stat()
            key: tuple[int, int, int] | None = (st.st_ino, st.st_mtime_ns, st.st_size)
        except OSError:
            key = None
        now = self.clock()
        with self.lock:
            if key == self.key and now <= self.until:
                return
        try:
            doc = json.loads(self.results.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = None
        checks = from_doc(doc)
        until = fresh_until(checks, now)
        metrics: list[Metric] = list(families(checks, self.uai, now))
        with self.lock:
            self.key, self.until, self.metrics, self.text = key, until, metrics, {}

    def collect(self) -> Iterator[Metric]:
        self._refresh()
        with self.lock:
            metrics = self.metrics
        yield from metrics

    def formatted(self, openmetrics: bool) -> bytes:
        self.wanted.add(openmetrics)
        self._refresh()
        with self.lock:
            metrics, text = self.metrics, self.text.get(openmetrics)
        if text is None:
            text = format_gauges(metrics, openmetrics).encode()
            with self.lock:
                if self.metrics is metrics:  # not replaced meanwhile
                    self.text[openmetrics] = text
        return text

    def watch(self, period: float = 1.0) -> threading.Thread:
        """Format the block ahead of scrapes: the prober rewrites its file after each probe, so
        a scrape would otherwise format it itself most of the time (5 ms, 3x that under load)."""

        def loop() -> None:
            while True:
                time.sleep(period)
                try:
                    for openmetrics in tuple(self.wanted):
                        self.formatted(openmetrics)
                except Exception:  # a scrape formats it then, and says what is wrong
                    log.exception("cannot format the probe results ahead of scrapes")

        thread = threading.Thread(target=loop, name="probe-block", daemon=True)
        thread.start()
        return thread


class MetricsApp:
    """WSGI: GET answers the exposition Prometheus asks for (format by Accept, gzip)."""

    def __init__(self, others: Collector, probes: ProbeBlock) -> None:
        self.others, self.probes = CollectorRegistry(auto_describe=False), probes
        self.others.register(others)
        # Any escaping scheme but the default could rename things: prometheus_client does it all.
        self.everything = CollectorRegistry(auto_describe=False)
        self.everything.register(others)
        self.everything.register(probes)

    def __call__(self, environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            start("405 Method Not Allowed", [("Allow", "GET"), ("Content-Type", "text/plain")])
            return [b"use GET\n"]
        accept = environ.get("HTTP_ACCEPT") or ""
        encoder, content_type = choose_encoder(accept)
        if "escaping=" in accept:
            body = encoder(self.everything)
        else:
            openmetrics = content_type.startswith("application/openmetrics-text")
            body = encoder(self.others)
            block = self.probes.formatted(openmetrics)
            body = body.removesuffix(EOF) + block + EOF if openmetrics else body + block
        headers = [("Content-Type", content_type)]
        if gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING") or ""):
            body = gzip.compress(body, compresslevel=GZIP_LEVEL)
            headers.append(("Content-Encoding", "gzip"))
        start("200 OK", headers)
        return [body]
