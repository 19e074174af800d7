"""The /metrics answer, fast: the probe families (most of the series) are formatted here once per
results file and kept until it changes; the few others go through prometheus_client; the whole
answer is made ahead of scrapes (monitoring/bodies.py)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from monitoring.bodies import GZIP_LEVEL, MAX_AGE, MAX_FORMATS, REFRESH, Bodies
from monitoring.probes.metrics import families, fresh_until
from monitoring.probes.results import from_doc

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

EOF = b"# EOF\n"  # OpenMetrics' last line
Encoder = Callable[[CollectorRegistry], bytes]
# prometheus_client's formatter validates every label name character by character (~25 ms for
# 1,300 series on this machine's cores, tripled under load): the probe families carry only our
# own label names, so formatting them here is safe.


def _number(value: float) -> str:
    """Go's float format, as prometheus_client writes values (1.7e+09, +Inf, NaN)."""
    text: str = floatToGoString(value)  # type: ignore[no-untyped-call]
    return text


def _value(text: str) -> str:
    return text.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


_LABELS: dict[tuple[tuple[str, str], ...], str] = {}
LABELS_KEPT = 20_000  # label sets remembered: ~1,300 series change values, not labels


def _labels(labels: dict[str, str]) -> str:
    """A sample's label text, remembered: the same series come back at every results file."""
    key = tuple(labels.items())
    text = _LABELS.get(key)
    if text is None:
        if len(_LABELS) >= LABELS_KEPT:
            _LABELS.clear()
        text = _LABELS[key] = ",".join(f'{k}="{_value(v)}"' for k, v in sorted(labels.items()))
    return text


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
            labels = _labels(s.labels)
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

    def _refresh(self) -> None:
        # Parsing and building happen outside the lock: a reader arriving meanwhile gets the
        # block already made instead of queueing behind the maker.
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
        self._refresh()
        with self.lock:
            metrics, text = self.metrics, self.text.get(openmetrics)
        if text is None:
            text = format_gauges(metrics, openmetrics).encode()
            with self.lock:
                if self.metrics is metrics:  # not replaced meanwhile
                    self.text[openmetrics] = text
        return text


class MetricsApp:
    """WSGI: GET answers the exposition Prometheus asks for (format by Accept, gzip), made ahead
    of time by a Bodies maker: a scrape costs the authentication and the writing only."""

    def __init__(self, others: Collector, probes: ProbeBlock, *, refresh: float = REFRESH,
                 max_age: float = MAX_AGE) -> None:
        self.others, self.probes = CollectorRegistry(auto_describe=False), probes
        self.others.register(others)
        # Any escaping scheme but the default could rename things: prometheus_client does it all.
        self.everything = CollectorRegistry(auto_describe=False)
        self.everything.register(others)
        self.everything.register(probes)
        self.encoders: dict[str, Encoder] = {}  # by content type
        self.bodies = Bodies(self.render, refresh=refresh, max_age=max_age)

    def start(self) -> MetricsApp:
        """Start making the answers ahead of scrapes (without it, each scrape makes its own
        when the last is older than ``max_age``)."""
        self.bodies.start()
        return self

    def render(self, content_type: str) -> bytes:
        """The uncompressed answer for a content type ``negotiate`` gave, read now."""
        body = self.encoders[content_type](self.others)
        if content_type.startswith("application/openmetrics-text"):
            return body.removesuffix(EOF) + self.probes.formatted(True) + EOF
        return body + self.probes.formatted(False)

    def __call__(self, environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            start("405 Method Not Allowed", [("Allow", "GET"), ("Content-Type", "text/plain")])
            return [b"use GET\n"]
        encoder, content_type, made_ahead = negotiate(environ.get("HTTP_ACCEPT") or "")
        zipped = gzip_accepted(environ.get("HTTP_ACCEPT_ENCODING") or "")
        if made_ahead and (content_type in self.encoders or len(self.encoders) < MAX_FORMATS):
            self.encoders.setdefault(content_type, encoder)
            body = self.bodies.get(content_type, zipped)
        else:
            body = encoder(self.everything)
            if zipped:
                body = gzip.compress(body, compresslevel=GZIP_LEVEL)
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        if zipped:
            headers.append(("Content-Encoding", "gzip"))
        start("200 OK", headers)
        return [body]


@lru_cache(maxsize=64)
def negotiate(accept: str) -> tuple[Encoder, str, bool]:
    """prometheus_client's encoder and content type for an Accept header, and whether its answer
    can be made ahead (not with an escaping scheme: prometheus_client may then rename, so it
    formats everything itself)."""
    encoder, content_type = choose_encoder(accept)
    return encoder, content_type, "escaping=" not in accept
