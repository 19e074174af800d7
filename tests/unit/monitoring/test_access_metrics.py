"""Access and journal metrics: portal logins by result (counted from the portal's auth events,
written to run/, read by the exporter), open sessions by method from the store, and the
journal's health from its files (last write per kind, last seal, size, sealed up to date)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from appliance.clock import FixedClock
from appliance.journal import Journal
from appliance.journal.seal import GRACE, seal_due
from appliance.sessions import store as sessions
from appliance.sessions.store import Method
from monitoring import access_metrics
from monitoring.collect import ApplianceCollector, Paths
from network.portal.access import Events
from network.portal.counters import FILE, LoginCounters, result_of

pytestmark = pytest.mark.unit
UAI = "0691234X"


NOW = datetime(2026, 3, 5, 10, tzinfo=UTC)


def scrape(tmp_path: Path, now: datetime = NOW) -> str:
    manifest = tmp_path / "rendered.json"
    manifest.write_text("{}")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApplianceCollector(Paths(UAI, tmp_path / "state", tmp_path / "run",
                                               tmp_path, manifest, ()), probes=False,
                                         clock=FixedClock(now)))
    return generate_latest(registry).decode()


def test_portal_auth_events_count_as_login_results() -> None:
    assert result_of("success", "portal", None) == "ok"
    assert result_of("failure", "portal", "bad-password") == "bad-password"
    assert result_of("failure", "voucher", "used") == "voucher-used"
    assert result_of("charter", "portal", "version 3") is None  # a step, not an attempt's end
    assert result_of("failure", "password-change", "bad-password") is None


def test_login_counts_reach_the_exporter(tmp_path: Path) -> None:
    counters = LoginCounters(tmp_path / "run" / FILE)
    events = Events(None, counters)
    events.auth("success", "portal", "eleve.a", "10.40.0.5")
    events.auth("success", "portal", "eleve.b", "10.40.0.6")
    events.auth("failure", "portal", "eleve.c", "10.40.0.7", "bad-password")
    events.auth("failure", "portal", None, "10.40.0.8", "unknown-login")
    events.auth("failure", "portal", None, "10.40.0.8", "rate-limited")
    events.auth("failure", "portal", "eleve.c", "10.40.0.7", "locked")
    events.auth("failure", "voucher", None, "10.40.0.9", "expired")
    events.auth("charter", "portal", "eleve.a", "10.40.0.5", "version 1")
    counters.flush()
    text = scrape(tmp_path)
    for result, count in (("ok", 2), ("bad-password", 1), ("unknown-login", 1),
                          ("rate-limited", 1), ("locked", 1), ("voucher-expired", 1)):
        assert f'carine_portal_logins_total{{result="{result}",uai="{UAI}"}} {count}.0' in text
    logins = [line for line in text.splitlines() if line.startswith("carine_portal_logins")]
    assert len(logins) == 6  # the charter step is not a login
    assert (tmp_path / "run" / FILE).stat().st_mode & 0o777 == 0o644  # the exporter's user reads


def test_a_missing_or_damaged_counter_file_gives_no_series(tmp_path: Path) -> None:
    assert "carine_portal_logins_total{" not in scrape(tmp_path)
    (tmp_path / "run" / FILE).parent.mkdir(parents=True)
    (tmp_path / "run" / FILE).write_text("{not json")
    assert "carine_portal_logins_total{" not in scrape(tmp_path)


def test_open_sessions_are_counted_by_method(tmp_path: Path) -> None:
    assert "carine_sessions_active{" not in scrape(tmp_path)  # no store yet: no series
    conn = sessions.open_store(tmp_path / "state" / "state.sqlite")
    now = NOW.timestamp()

    def start(ip: str, method: Method, lifetime: float = 3600) -> sessions.Session:
        return sessions.start(conn, method=method, login=f"u-{ip}", profile="eleve", ip=ip,
                              mac=None, zone="invites", now=now, idle_timeout=600,
                              lifetime=lifetime)[0]

    start("10.40.0.1", Method.PORTAL)
    start("10.40.0.2", Method.PORTAL)
    ended = start("10.40.0.3", Method.PORTAL)
    sessions.end(conn, ended.id, "logout", now)
    start("10.40.0.4", Method.DEVICE)
    start("10.40.0.5", Method.VOUCHER, lifetime=-1)  # past its end, not yet closed by the loop
    conn.close()
    text = scrape(tmp_path)
    for method, count in (("portal", 2), ("device", 1), ("voucher", 0), ("802.1x", 0)):
        assert f'carine_sessions_active{{method="{method}",uai="{UAI}"}} {count}.0' in text


# Two fixed clocks: the first hour of the UTC day (the old test read the wall clock and failed
# every night between 00:00 and 01:00, inside seal.py's grace) and the afternoon.
@pytest.mark.parametrize("today", [datetime(2026, 3, 5, 0, 30, tzinfo=UTC),
                                   datetime(2026, 3, 5, 14, 0, tzinfo=UTC)])
def test_journal_health_follows_writes_and_seals(tmp_path: Path, today: datetime) -> None:
    root = tmp_path / "state" / "journal"
    assert "carine_journal_ok{" not in scrape(tmp_path, today)  # no journal: no series
    clock = FixedClock(today)
    yesterday = today - timedelta(days=1)
    two_days_ago = today - timedelta(days=2)
    with Journal.open(root, clock=clock) as journal:
        journal.append("auth", {"outcome": "success", "login": "eleve.a", "ip": "10.40.0.5"},
                       at=two_days_ago)
        journal.append("auth", {"outcome": "success", "login": "eleve.a", "ip": "10.40.0.5"},
                       at=yesterday)
        journal.append("session", {"event": "start", "login": "eleve.a", "ip": "10.40.0.5"})
    text = scrape(tmp_path, today)
    # Two finished days with records, none sealed: behind whatever the hour.
    assert f'carine_journal_ok{{uai="{UAI}"}} 0.0' in text
    assert f'carine_journal_last_append_timestamp_seconds{{kind="session",uai="{UAI}"}}' in text
    assert "carine_journal_last_seal_timestamp_seconds{" not in text
    sealed = seal_due(root, now=today)
    # Yesterday is sealed only once the hour of grace after midnight has passed.
    in_grace = today.hour == 0
    due = (today - GRACE).date() - timedelta(days=1)
    assert due == (two_days_ago.date() if in_grace else yesterday.date())
    assert any(f"sealed auth {two_days_ago.date()}" in line for line in sealed)
    assert any(f"sealed auth {yesterday.date()}" in line for line in sealed) is not in_grace
    health = access_metrics.journal_health(root, today.timestamp())
    assert health is not None and health.ok and health.last_seal == today.timestamp()
    assert health.sealed_through == due.isoformat()
    assert health.disk_bytes == sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    later = access_metrics.journal_health(root, (today + timedelta(days=2)).timestamp())
    assert later is not None and not later.ok  # two more finished days, none sealed


def test_journal_readings_are_reused_between_close_scrapes(tmp_path: Path) -> None:
    root = tmp_path / "journal"
    Journal.open(root).append("admin", {"actor": "referent", "action": "test"})
    gauges = access_metrics.JournalGauges(root)
    def disk(families: list) -> float:  # type: ignore[type-arg]
        return float(next(f for f in families
                          if f.name == "carine_journal_disk_bytes").samples[0].value)

    first = disk(gauges.families(UAI, NOW.timestamp(), 100.0))
    (root / "extra").write_bytes(b"x" * 4096)
    assert disk(gauges.families(UAI, NOW.timestamp(), 110.0)) == first  # reused
    assert disk(gauges.families(UAI, NOW.timestamp(), 100.0 + access_metrics.JOURNAL_EVERY)) \
        == first + 4096  # read again


def test_counter_file_is_json_with_the_counts(tmp_path: Path) -> None:
    counters = LoginCounters(tmp_path / FILE)
    counters.count("ok")
    counters.flush()
    doc = json.loads((tmp_path / FILE).read_text())
    assert doc["logins"] == {"ok": 1}
