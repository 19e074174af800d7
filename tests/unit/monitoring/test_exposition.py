"""The exporter's own formatting of the probe families says exactly what prometheus_client would
(text and OpenMetrics, escapes included), and its cache follows the results file and staleness."""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, make_wsgi_app

from appliance.clock import FixedClock
from monitoring.collect import ApplianceCollector, Paths
from monitoring.exposition import MetricsApp, ProbeBlock, format_gauges
from monitoring.probes import RESULTS
from monitoring.probes.results import Check, to_doc

pytestmark = pytest.mark.unit
NOW = 1_772_704_800.0  # 2026-03-05 10:00 UTC: a fixed clock, never the wall's


def collector(paths: Paths, probes: bool = False) -> ApplianceCollector:
    return ApplianceCollector(paths, probes=probes, clock=FixedClock.at_seconds(NOW))


def block(results: Path, uai: str) -> ProbeBlock:
    return ProbeBlock(results, uai, clock=lambda: NOW)
OPENMETRICS = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
ODD = 'https://ent.example/a"b\\c\nd'  # every character the formats escape


def checks(now: float) -> list[Check]:
    return [
        Check("ent", ODD, "http", "direct", True, now - 10, 60, duration=0.25, status=200,
              first_byte=0.1),
        Check("ent", ODD, "tls", "proxy", True, now - 10, 60, duration=0.02, tls_expiry=2e9),
        Check("gar", "gar.example", "dns", "upstream", False, now - 5, 60, error="NXDOMAIN"),
        Check("old", "old.example", "dns", "appliance", True, now - 170, 60, duration=0.001),
        Check("uplink", "198.18.0.1", "icmp", "direct", True, now - 1, 60, duration=1e-4),
    ]


def setup(tmp_path: Path, now: float) -> tuple[Paths, Path]:
    run = tmp_path / "run"
    (run / "monitoring").mkdir(parents=True)
    results = run / RESULTS
    results.write_text(json.dumps(to_doc(checks(now), None, now)))
    # No state or log folder: nothing that moves between two scrapes (disk space, list age).
    missing = tmp_path / "absent"
    return Paths("0691234X", missing, run, missing, missing / "rendered.json", ()), results


def call(app: Any, accept: str | None,
         encoding: str | None = None) -> tuple[str, dict[str, str], bytes]:
    seen: list[Any] = []
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/metrics", "QUERY_STRING": ""}
    if accept:
        environ["HTTP_ACCEPT"] = accept
    if encoding:
        environ["HTTP_ACCEPT_ENCODING"] = encoding
    body = b"".join(app(environ, lambda status, headers: seen.append((status, headers))))
    headers = dict(seen[0][1])
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return seen[0][0], headers, body


@pytest.mark.parametrize("accept", [None, OPENMETRICS, "text/plain;version=1.0.0;escaping=dots"])
def test_the_answer_is_prometheus_clients_own_in_another_order(tmp_path: Path,
                                                               accept: str | None) -> None:
    paths, _ = setup(tmp_path, NOW)
    ours = MetricsApp(collector(paths),
                      block(paths.run / RESULTS, paths.uai))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector(paths, probes=True))
    theirs = make_wsgi_app(registry)
    status, headers, body = call(ours, accept, "gzip")
    status_ref, headers_ref, body_ref = call(theirs, accept, "gzip")
    assert status == status_ref == "200 OK"
    assert headers["Content-Type"] == headers_ref["Content-Type"]
    assert sorted(body.splitlines()) == sorted(body_ref.splitlines())
    assert b'target="https://ent.example/a\\"b\\\\c\\nd"' in body
    if accept == OPENMETRICS:
        assert body.endswith(b"\n# EOF\n") and body.count(b"# EOF") == 1


def test_only_gauges_are_formatted_here(tmp_path: Path) -> None:
    paths, _ = setup(tmp_path, NOW)
    counters = [m for m in collector(paths, probes=True).collect() if m.type == "counter"]
    with pytest.raises(ValueError, match="only gauges"):
        format_gauges(counters, openmetrics=False)


def test_the_block_follows_the_file_and_turns_stale_results_into_failures(
        tmp_path: Path) -> None:
    now = [1_000_000.0]
    paths, results = setup(tmp_path, now[0])
    block = ProbeBlock(results, paths.uai, clock=lambda: now[0])
    first = block.formatted(openmetrics=False)
    assert b'service="old",target="old.example",uai="0691234X"} 1.0' in first
    assert block.formatted(openmetrics=False) is first  # kept while nothing changed
    now[0] += 15  # "old" (170 s + 15 > 3 intervals of 60 s) is no longer believed
    stale = block.formatted(openmetrics=False)
    assert b'service="old",target="old.example",uai="0691234X"} 0.0' in stale
    assert b'service="gar",target="gar.example",uai="0691234X"} 0.0' in stale
    fixed = [c if c.service != "gar" else Check("gar", "gar.example", "dns", "upstream", True,
                                                now[0], 60, duration=0.002)
             for c in checks(now[0] - 15)]
    results.write_text(json.dumps(to_doc(fixed, None, now[0])) + " ")  # another size
    os.utime(results, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert b'service="gar",target="gar.example",uai="0691234X"} 1.0' in \
        block.formatted(openmetrics=False)
    results.unlink()
    assert b"carine_probe_success{" not in block.formatted(openmetrics=False)


def test_only_get_is_answered(tmp_path: Path) -> None:
    paths, results = setup(tmp_path, NOW)
    app = MetricsApp(collector(paths), block(results, paths.uai))
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]],
                       exc_info: object = None) -> Callable[[bytes], object]:
        seen.append(status)
        return lambda data: None

    app({"REQUEST_METHOD": "POST"}, start_response)
    assert seen == ["405 Method Not Allowed"]
