"""`promtool check metrics` accepts the exporter's exposition with the access and journal
families filled (portal logins, open sessions, journal health), and refuses a broken one (so the
check really asks promtool). Without promtool the test skips on a workstation, fails in CI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from appliance.clock import FixedClock
from appliance.journal import Journal
from appliance.run import Result, run
from appliance.sessions import store as sessions
from appliance.sessions.store import Method
from monitoring.collect import ApplianceCollector, Paths
from network.portal.counters import FILE, LoginCounters
from tests.conftest import require_tool

pytestmark = pytest.mark.contract
NOW = datetime(2026, 3, 5, 10, tzinfo=UTC)


def check(text: str) -> Result:
    return run([require_tool("promtool"), "check", "metrics"], input_text=text, check=False,
               timeout=60)


def exposition(tmp_path: Path) -> str:
    run_dir, state = tmp_path / "run", tmp_path / "state"
    counters = LoginCounters(run_dir / FILE)
    for result in ("ok", "ok", "bad-password", "locked", "unknown-login", "rate-limited"):
        counters.count(result)
    counters.flush()
    conn = sessions.open_store(state / "state.sqlite")
    for i, method in enumerate((Method.PORTAL, Method.DEVICE, Method.VOUCHER)):
        sessions.start(conn, method=method, login=f"u{i}", profile="eleve", ip=f"10.40.0.{i}",
                       mac=None, zone="invites", now=NOW.timestamp(), idle_timeout=600,
                       lifetime=3600)
    conn.close()
    with Journal.open(state / "journal", clock=FixedClock(NOW)) as journal:
        journal.append("auth", {"outcome": "success", "login": "u0", "ip": "10.40.0.0"})
    manifest = tmp_path / "rendered.json"
    manifest.write_text("{}")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApplianceCollector(Paths("0691234X", state, run_dir, tmp_path, manifest,
                                               ("dnsmasq",)), probes=False,
                                         clock=FixedClock(NOW)))
    return generate_latest(registry).decode()


def test_promtool_accepts_the_access_and_journal_families(tmp_path: Path) -> None:
    text = exposition(tmp_path)
    for family in ("carine_portal_logins_total{", "carine_sessions_active{",
                   "carine_journal_ok{", "carine_journal_last_append_timestamp_seconds{",
                   "carine_journal_disk_bytes{"):
        assert family in text
    result = check(text)
    assert result.ok, result.output()


def test_promtool_refuses_a_broken_exposition(tmp_path: Path) -> None:
    text = exposition(tmp_path).replace("# TYPE carine_sessions_active gauge",
                                        "# TYPE carine_sessions_active nonsense")
    assert not check(text).ok
