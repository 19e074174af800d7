"""The exporter's own logic: basic authentication with argon2 and its cache, and what the
collector reads from the appliance's files (counters, list status, pid files)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from prometheus_client import CollectorRegistry, generate_latest

from monitoring.collect import ApplianceCollector, Paths
from monitoring.exporter import BasicAuth

pytestmark = pytest.mark.unit
HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("correct horse battery")


def call(app: BasicAuth, header: str | None) -> str:
    seen: list[str] = []
    environ = {"HTTP_AUTHORIZATION": header} if header else {}
    app(environ, lambda status, headers: seen.append(status))  # type: ignore[arg-type]
    return seen[0]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_accepts_only_the_configured_pair_and_remembers_it() -> None:
    inner = lambda environ, start: start("200 OK", []) or [b"ok"]  # noqa: E731
    app = BasicAuth(inner, "prometheus", HASH)
    assert call(app, None).startswith("401")
    assert call(app, "Bearer x").startswith("401")
    assert call(app, "Basic !!!").startswith("401")
    assert call(app, basic("prometheus", "wrong")).startswith("401")
    assert call(app, basic("root", "correct horse battery")).startswith("401")
    assert call(app, basic("prometheus", "correct horse battery")) == "200 OK"
    assert len(app.verified) == 1  # the next scrape skips argon2


def test_collector_reads_counters_status_and_daemons(tmp_path: Path) -> None:
    run, state = tmp_path / "run", tmp_path / "state"
    (run / "filtering").mkdir(parents=True)
    (state / "filtering/generations").mkdir(parents=True)
    for pid in (1, 2):
        (run / "filtering" / f"helper-{pid}.json").write_text(json.dumps({
            "decisions": [{"profile": "eleve", "category": "games", "action": "block",
                           "count": 3}],
            "latency_buckets": [0.001, 0.01], "latency_counts": [4, 1, 0],
            "latency_sum": 0.004}))
    (state / "filtering/generations/status.json").write_text(json.dumps({
        "result": "ok", "domains": 368905, "generation_created": "2026-11-23T04:00:00+00:00",
        "last_success": "2026-11-23T04:00:00+00:00"}))
    (run / "units").mkdir()  # where the runners record each daemon's main PID
    (run / "units/dnsmasq.pid").write_text(f"{os.getpid()}\n")
    (run / "units/squid.pid").write_text("999999\n")
    manifest = tmp_path / "rendered.json"
    manifest.write_text("{}")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApplianceCollector(Paths("0691234X", state, run, tmp_path, manifest,
                                               ("dnsmasq", "squid"))))
    text = generate_latest(registry).decode()
    assert ('carine_filter_decisions_total{action="block",category="games",profile="eleve",'
            'uai="0691234X"} 6.0') in text
    assert 'carine_filter_decision_seconds_bucket{le="+Inf",uai="0691234X"} 10.0' in text
    assert 'carine_filter_lists_domains{uai="0691234X"} 368905.0' in text
    assert 'carine_daemon_up{daemon="dnsmasq",uai="0691234X"} 1.0' in text
    assert 'carine_daemon_up{daemon="squid",uai="0691234X"} 0.0' in text
    assert 'carine_filter_update_last_result{result="ok",uai="0691234X"} 1.0' in text
