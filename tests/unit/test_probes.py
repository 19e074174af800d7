"""The prober's pure logic: the site section and its defaults, the rendered configuration, the
schedule, stages to result rows, HTTP on the wire, certificates, and rows to metrics."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from appliance.clock import FixedClock
from appliance.errors import CarineError, SiteInvalid
from appliance.render.layout import Layout
from appliance.site import parse_site
from appliance.site.probes import DEFAULT_SOURCES, DEFAULT_TARGETS
from monitoring.collect import ApplianceCollector, Paths
from monitoring.probes import httpwire
from monitoring.probes.config import ProberConfig, TargetSpec, render
from monitoring.probes.icmp import default_gateway, hops
from monitoring.probes.metrics import probe_families
from monitoring.probes.outcome import CertInfo, Phases, fetch_rows, page_ok
from monitoring.probes.results import Check, Hop, from_doc, to_doc
from monitoring.probes.schedule import FIRST_SPREAD, JITTER, Schedule
from monitoring.probes.tlscheck import _matches
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.unit

LYCEE = (EXAMPLES / "site.yaml").read_text(encoding="utf-8")


def site_with(probes: dict[str, Any] | None, **top: Any) -> Any:
    data = yaml.safe_load(LYCEE)
    if probes is None:
        data["monitoring"].pop("probes", None)
    else:
        data["monitoring"]["probes"] = probes
    data.update(top)
    return parse_site(yaml.safe_dump(data, allow_unicode=True))


# --- the site section --------------------------------------------------------------------------


def test_the_example_adds_its_ent_first_then_the_verified_national_defaults() -> None:
    targets = site_with(None).monitoring.probes.effective_targets()
    assert [t.name for t in targets] == [t.name for t in DEFAULT_TARGETS]
    lycee = parse_site(LYCEE).monitoring.probes.effective_targets()
    assert lycee[0].name == "ent" and lycee[0].url == "https://ent.auvergnerhonealpes.fr/"
    assert lycee[0].target_seconds == 1.0 and lycee[0].paths == ("direct", "proxy")
    assert set(DEFAULT_SOURCES) == {t.name for t in DEFAULT_TARGETS}  # each default has a source


def test_a_target_replaces_the_default_of_its_name_and_defaults_can_be_off() -> None:
    own = {"name": "gar", "url": "https://gar.example/", "interval_seconds": 120}
    targets = site_with({"targets": [own]}).monitoring.probes.effective_targets()
    assert [t.url for t in targets if t.name == "gar"] == ["https://gar.example/"]
    alone = site_with({"defaults": False, "targets": [own]}).monitoring.probes
    assert [t.name for t in alone.effective_targets()] == ["gar"]


@pytest.mark.parametrize(("probes", "path", "words"), [
    ({"targets": [{"name": "ent", "url": "ftp://ent.example/"}]},
     "monitoring.probes.targets[0].url", "http:// or https://"),
    ({"targets": [{"name": "ent", "url": "https://u:p@ent.example/"}]},
     "monitoring.probes.targets[0].url", "password"),
    ({"targets": [{"name": "ENT", "url": "https://ent.example/"}]},
     "monitoring.probes.targets[0].name", "not a valid name"),
    ({"targets": [{"name": "ent", "url": "https://ent.example/", "interval_seconds": 5}]},
     "monitoring.probes.targets[0].interval_seconds", "greater than or equal to 10"),
    ({"targets": [{"name": "ent", "url": "https://ent.example/", "timeout_seconds": 61}]},
     "monitoring.probes.targets[0].timeout_seconds", "less than or equal to 60"),
    ({"targets": [{"name": "ent", "url": "https://ent.example/", "interval_seconds": 10,
                   "timeout_seconds": 10}]},
     "monitoring.probes.targets[0]", "shorter than interval_seconds"),
    ({"targets": [{"name": "ent", "url": "https://ent.example/", "paths": ["vpn"]}]},
     "monitoring.probes.targets[0].paths[0]", "direct"),
    ({"targets": [{"name": "ent", "url": "https://ent.example/",
                   "login_check": {"path": "login", "expect": "x"}}]},
     "monitoring.probes.targets[0].login_check.path", "start with '/'"),
    ({"targets": [{"name": "ent", "url": "https://a.example/"},
                  {"name": "ent", "url": "https://b.example/"}]},
     "monitoring.probes", "ent given twice"),
    ({"ca_file": "lab/ca.pem"}, "monitoring.probes", "absolute path"),
    ({"concurrency": 0}, "monitoring.probes.concurrency", "greater than or equal to 1"),
    ({"target": []}, "monitoring.probes.target", "unknown key"),
])
def test_bad_probe_settings_are_refused_with_their_path(probes: dict[str, Any], path: str,
                                                         words: str) -> None:
    with pytest.raises(SiteInvalid) as caught:
        site_with(probes)
    problems = {p.path: p for p in caught.value.problems}
    assert path in problems, caught.value.report()
    assert words in f"{problems[path].message} {problems[path].hint}"


# --- rendered configuration --------------------------------------------------------------------


def test_render_sends_the_proxy_probes_from_the_pupils_zone_and_expands_the_targets() -> None:
    doc = render(parse_site(LYCEE), Layout.system())
    assert doc["proxy"] == {"address": "10.30.0.1", "port": 3128} and doc["proxy_zone"] == "pedago"
    assert doc["resolver"] == {"address": "127.0.0.1", "port": 53}
    assert doc["upstream"] == {"address": "192.0.2.53", "port": 53}
    assert doc["gateway"] == "203.0.113.9" and doc["gateway_ping"] is True
    assert doc["results"] == "/run/carine/monitoring/probes.json"
    assert [t["name"] for t in doc["targets"]][:2] == ["ent", "educonnect"]
    config = ProberConfig.from_doc({"run": "/run/carine", "probes": doc})
    assert config.targets[0] == TargetSpec("ent", "https://ent.auvergnerhonealpes.fr/",
                                           ("direct", "proxy"), 60, 10, 1.0)
    assert config.pidfile == Path("/run/carine/monitoring/prober.pid")


def test_without_filtering_there_is_no_proxy_path_and_dhcp_leaves_the_gateway_open() -> None:
    data = yaml.safe_load(LYCEE)
    data["filtering"] = {"enabled": False}
    for zone in data["zones"]:
        zone["internet"] = "direct" if zone.get("internet") != "none" else "none"
    data["uplink"] = {"interface": "eth0", "mode": "dhcp"}
    data["monitoring"]["probes"]["targets"].append(
        {"name": "proxied", "url": "http://only.example/", "paths": ["proxy"]})
    doc = render(parse_site(yaml.safe_dump(data, allow_unicode=True)), Layout.system())
    assert doc["proxy"] is None and doc["gateway"] is None
    assert all(t["paths"] == ["direct"] for t in doc["targets"])
    assert "proxied" not in [t["name"] for t in doc["targets"]]


def test_an_unusable_probe_configuration_is_a_carine_error() -> None:
    with pytest.raises(CarineError, match="probes part"):
        ProberConfig.from_doc({"run": "/run/carine"})


# --- schedule ----------------------------------------------------------------------------------


def test_first_runs_are_spread_then_each_probe_keeps_its_own_interval_with_jitter() -> None:
    sched = Schedule({"a": 60.0, "b": 10.0}, random.Random(1))
    sched.start(1000.0)
    assert all(1000 <= t <= 1000 + FIRST_SPREAD for t in sched.due.values())
    assert sched.due["b"] <= 1001.0  # 10 % of a 10 s interval
    assert sorted(sched.take_due(1010.0)) == ["a", "b"]
    assert sched.take_due(1010.0) == [] and sched.delay(1010.0) is None  # both running
    sched.done("b", 1012.0)
    assert 1010 + 10 * (1 - JITTER) <= sched.due["b"] <= 1010 + 10 * (1 + JITTER)
    assert sched.running() == {"a"}
    sched.done("a", 1080.0)  # slower than its interval: due at once, never in the past
    assert sched.due["a"] == 1080.0


def test_run_now_brings_every_waiting_probe_forward() -> None:
    sched = Schedule({"a": 60.0, "b": 60.0}, random.Random(2))
    sched.start(0.0)
    sched.take_due(10.0)
    sched.done("a", 11.0)
    sched.done("b", 11.0)
    assert (sched.delay(12.0) or 0) > 40
    sched.all_now(12.0)
    assert sched.delay(12.0) == 0 and sorted(sched.take_due(12.0)) == ["a", "b"]


# --- stages to rows ----------------------------------------------------------------------------

URL = "https://ent.example/"
CERT = CertInfo(2e9, True, True)


def rows(ph: Phases, url: str = URL, expect: str | None = None,
         stages: tuple[str, ...] = ("tcp", "tls", "http")) -> dict[str, Check]:
    out = fetch_rows("ent", url, "direct", ph, now=100.0, interval=60, objective=1.0,
                     expect=expect, cert=CERT, stages=stages)
    return {r.check: r for r in out}


def test_a_complete_fetch_passes_every_stage_and_meets_its_objective() -> None:
    ph = Phases(0.0, "http", tcp=0.01, tls=0.02, first_byte=0.2, total=0.3, status=200,
                body=b"ENT")
    got = rows(ph)
    assert [r.success for r in got.values()] == [True, True, True]
    assert got["tls"].tls_expiry == 2e9 and got["tls"].duration == 0.02
    assert got["http"].status == 200 and got["http"].first_byte == 0.2
    assert got["http"].meets_objective() is True and got["tcp"].meets_objective() is None
    slow = rows(Phases(0.0, "http", tcp=0.1, tls=0.1, first_byte=1.0, total=1.2, status=200))
    assert slow["http"].success and slow["http"].meets_objective() is False


@pytest.mark.parametrize(("stage", "error", "expected"), [
    ("tcp", "connection refused", {"tcp": "connection refused",
                                   "tls": "not reached (tcp failed)",
                                   "http": "not reached (tcp failed)"}),
    ("tls", "certificate: certificate has expired", {"tcp": None,
                                                     "tls": "certificate: certificate has expired",
                                                     "http": "not reached (tls failed)"}),
    ("http", "no answer within 10s", {"tcp": None, "tls": None, "http": "no answer within 10s"}),
])
def test_a_failed_stage_fails_itself_and_every_later_one(stage: str, error: str,
                                                          expected: dict[str, str | None]) -> None:
    ph = Phases(0.0, stage, tcp=0.01, tls=0.02 if stage == "http" else None, error=error)
    got = rows(ph)
    assert {k: r.error for k, r in got.items()} == expected
    assert {k: r.success for k, r in got.items()} == {k: v is None for k, v in expected.items()}


def test_plain_http_has_no_tls_row_and_a_login_check_reports_http_only() -> None:
    ph = Phases(0.0, "http", tcp=0.01, first_byte=0.1, total=0.1, status=302)
    assert list(rows(ph, url="http://ent.example/")) == ["tcp", "http"]
    assert list(rows(ph, stages=("http",))) == ["http"]


@pytest.mark.parametrize(("status", "body", "expect", "ok"), [
    (200, b"", None, True), (302, b"", None, True), (404, b"", None, False),
    (503, b"", None, False), (None, b"", None, False), (200, b"Connexion ENT", "ENT", True),
    (200, b"Maintenance", "ENT", False), (302, b"ENT", "ENT", False),
])
def test_what_counts_as_the_page_being_there(status: int | None, body: bytes,
                                              expect: str | None, ok: bool) -> None:
    assert page_ok(status, body, expect)[0] is ok


# --- HTTP on the wire --------------------------------------------------------------------------


def test_requests_in_origin_and_absolute_form_and_connect() -> None:
    assert httpwire.request("https://ent.example/a?b=1").startswith(
        b"GET /a?b=1 HTTP/1.1\r\nHost: ent.example\r\n")
    assert httpwire.request("http://ent.example:8080", absolute=True).startswith(
        b"GET http://ent.example:8080/ HTTP/1.1\r\nHost: ent.example:8080\r\n")
    assert httpwire.connect("https://ent.example/") == (
        b"CONNECT ent.example:443 HTTP/1.1\r\nHost: ent.example:443\r\n\r\n")
    assert httpwire.authority("http://ent.example/") == ("ent.example", 80)


def test_answers_are_read_by_length_by_chunks_or_to_the_end() -> None:
    assert httpwire.parse_head(b"HTTP/1.1 200 OK\r\nContent-Le") is None
    with pytest.raises(ValueError, match="not an HTTP answer"):
        httpwire.parse_head(b"SSH-2.0-OpenSSH\r\n\r\n")
    head = httpwire.parse_head(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab")
    assert head is not None and head.status == 200 and head.body_start == 38
    assert not httpwire.body_complete(head, b"ab") and httpwire.body_complete(head, b"abc")
    chunked = httpwire.Head(200, {"transfer-encoding": "chunked"}, 0)
    body = b"4\r\nCARI\r\n2;x=y\r\nNE\r\n0\r\n\r\n"
    assert httpwire.body_complete(chunked, body) and httpwire.payload(chunked, body) == b"CARINE"
    assert not httpwire.body_complete(httpwire.Head(200, {}, 0), b"until the end")
    assert httpwire.body_complete(httpwire.Head(304, {}, 0), b"")


# --- certificates ------------------------------------------------------------------------------


@pytest.mark.parametrize(("pattern", "host", "ok"), [
    ("ent.example", "ENT.example", True), ("*.example", "ent.example", True),
    ("*.example", "a.ent.example", False), ("*.example", "example", False),
    ("ent.example", "ent.example.", True), ("other.example", "ent.example", False),
])
def test_certificate_names_match_like_a_browser(pattern: str, host: str, ok: bool) -> None:
    assert _matches(pattern, host) is ok


# --- results file and metrics ------------------------------------------------------------------

NOW = 10_000.0


def _metrics(doc: Any, now: float = NOW) -> str:
    class Fixed(Collector):
        def collect(self):
            return probe_families(doc, "0691234X", now)

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Fixed())
    return generate_latest(registry).decode()


def sample_doc() -> dict[str, Any]:
    checks = [
        Check("ent", URL, "http", "direct", True, NOW - 30, 60, duration=0.4, status=200,
              first_byte=0.3, objective=1.0),
        Check("ent", URL, "tls", "direct", True, NOW - 30, 60, duration=0.02, tls_expiry=2e9),
        Check("ent", URL, "tls", "proxy", True, NOW - 20, 60, duration=0.03, tls_expiry=2.1e9),
        Check("gar", "https://gar.example/", "http", "proxy", True, NOW - 200, 60,
              duration=0.5, status=200),
        Check("ent", "ent.example", "dns", "upstream", False, NOW - 5, 60, error="NXDOMAIN"),
        Check("uplink", "198.18.0.1", "icmp", "direct", True, NOW - 10, 60, duration=0.001),
    ]
    return to_doc(checks, {"destination": "198.18.1.1", "hops": []}, NOW)


def test_results_round_trip_and_say_whether_the_objective_was_met() -> None:
    doc = sample_doc()
    assert doc["checks"][0]["check"] == "dns" and "duration" not in doc["checks"][0]
    http = next(r for r in doc["checks"] if r["check"] == "http" and r["service"] == "ent")
    assert http["objective_met"] is True
    assert from_doc(doc) == sorted(from_doc(doc), key=lambda c: c.key)
    assert len(from_doc(doc)) == 6
    assert from_doc({"format": 99, "checks": doc["checks"]}) == []
    assert from_doc({"format": 1, "checks": [{"service": "x"}, "junk"]}) == []


def test_metrics_carry_the_catalogue_labels_and_stale_results_count_as_failures() -> None:
    text = _metrics(sample_doc())
    ent = 'check="http",path="direct",service="ent",target="https://ent.example/",uai="0691234X"'
    assert f"carine_probe_success{{{ent}}} 1.0" in text
    assert f"carine_probe_http_status_code{{{ent}}} 200.0" in text
    assert f"carine_probe_http_first_byte_seconds{{{ent}}} 0.3" in text
    assert f"carine_probe_duration_seconds{{{ent}}} 0.4" in text
    assert f"carine_probe_last_run_timestamp_seconds{{{ent}}} 9970.0" in text
    # 200 s old with a 60 s interval: more than three intervals, so a failure without values.
    gar = 'check="http",path="proxy",service="gar",target="https://gar.example/"'
    assert f'carine_probe_success{{{gar},uai="0691234X"}} 0.0' in text
    assert f"carine_probe_duration_seconds{{{gar}" not in text
    # One expiry per target: the newest observation (the proxy path's here).
    assert ('carine_probe_tls_expiry_timestamp_seconds{service="ent",'
            'target="https://ent.example/",uai="0691234X"} 2.1e+09') in text
    assert 'carine_probe_success{check="dns",path="upstream"' in text
    assert 'carine_uplink_up{uai="0691234X"} 1.0' in text
    assert 'carine_uplink_up{uai="0691234X"} 0.0' in _metrics(sample_doc(), now=NOW + 500)


def test_no_results_file_gives_empty_families() -> None:
    text = _metrics(None)
    assert "# TYPE carine_probe_success gauge" in text
    assert "carine_probe_success{" not in text and "carine_uplink_up{" not in text


# --- uplink ------------------------------------------------------------------------------------


def test_the_default_gateway_is_read_from_the_route_table() -> None:
    table = ("Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n"
             "eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\n"
             "eth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\n")
    assert default_gateway(table) == "192.168.0.1"
    assert default_gateway(table.splitlines()[0] + "\n") is None


def test_a_trace_is_one_hop_per_ttl_up_to_the_destination() -> None:
    answers = [(1, "198.18.0.1", 0.001, False), (3, "198.18.1.1", 0.003, True),
               (4, "198.18.1.1", 0.004, True)]
    assert hops(answers) == [Hop(1, "198.18.0.1", 0.001), Hop(2, None, None),
                             Hop(3, "198.18.1.1", 0.003)]
    assert hops([(1, "198.18.0.1", 0.001, False)]) == [Hop(1, "198.18.0.1", 0.001)]


def test_the_exporter_reads_the_results_file_at_scrape_time(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "monitoring").mkdir(parents=True)
    now = 1_772_704_800.0  # a fixed clock, 2026-03-05 10:00 UTC
    fresh = Check("ent", URL, "http", "proxy", True, now, 60, duration=0.2, status=200)
    (run / "monitoring/probes.json").write_text(json.dumps(to_doc([fresh], None, now)))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ApplianceCollector(Paths("0691234X", tmp_path, run, tmp_path,
                                               tmp_path / "rendered.json", ()),
                                         clock=FixedClock.at_seconds(now)))
    text = generate_latest(registry).decode()
    assert ('carine_probe_success{check="http",path="proxy",service="ent",'
            'target="https://ent.example/",uai="0691234X"} 1.0') in text
