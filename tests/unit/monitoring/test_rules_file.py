"""The alert and recording rules as a file: every alert the supervision issue asks for, each with
`for`, a severity and French and English texts naming the school; only catalogue metrics and
labels; and each alert both firing and not firing in the promtool tests (which promtool runs:
tests/contract/test_prometheus_rules.py)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitoring.promql import (
    RULES,
    known_labels,
    known_series,
    metric_names,
    rule_groups,
    selector_labels,
)

pytestmark = pytest.mark.unit

TESTS = sorted((RULES.parent / "tests").glob("*.yml"))
ANNOTATIONS = ("summary", "description", "summary_en", "description_en")
ASKED = {  # the issue's list, (a) to (i)
    "CarineServiceUnreachable", "CarineServiceUnreachableThroughProxy", "CarineUplinkDown",
    "CarineFilterListsOld", "CarineProbeCertificateExpiring", "CarineCertificateExpiring",
    "CarineDaemonDown", "CarineJournalFailing", "CarineDiskLow", "CarineDiskFillingUp",
    "CarineImportHeartbeatMissing", "CarineFilterUpdateFailing", "CarineExporterDown",
}
KNOWN = known_series()
LABELS = known_labels()


def _rules() -> list[dict[str, Any]]:
    return [rule for group in rule_groups() for rule in group["rules"]]  # type: ignore[attr-defined]


def _alerts() -> list[dict[str, Any]]:
    return [rule for rule in _rules() if "alert" in rule]


def test_the_alerts_asked_for_are_in_group_carine() -> None:
    groups = {g["name"]: g for g in rule_groups()}
    in_carine = {rule["alert"] for rule in groups["carine"]["rules"]}  # type: ignore[attr-defined]
    assert in_carine >= ASKED
    assert len({r["alert"] for r in _alerts()}) == len(_alerts()), "an alert name given twice"


@pytest.mark.parametrize("alert", _alerts(), ids=lambda r: r["alert"])
def test_alert_has_for_severity_and_both_languages(alert: dict[str, Any]) -> None:
    assert alert.get("for"), "every alert waits before firing"
    assert alert["labels"]["severity"] in ("critical", "warning")
    assert set(alert["annotations"]) == set(ANNOTATIONS)
    for name in ANNOTATIONS:
        assert "{{ $labels.uai }}" in alert["annotations"][name], name


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r.get("alert") or r["record"])
def test_rule_reads_only_known_series_and_labels(rule: dict[str, Any]) -> None:
    expr = rule["expr"]
    assert metric_names(expr), "reads no metric?"
    assert metric_names(expr) <= KNOWN, metric_names(expr) - KNOWN
    for name, matched in selector_labels(expr):
        assert matched <= LABELS[name], f"{name} has no label {matched - LABELS[name]}"


def test_recordings_for_the_availability_report_exist() -> None:
    recorded = {r["record"] for r in _rules() if "record" in r}
    assert {"carine:probe_success:min", "carine:probe_success:avg_over_time_1d",
            "carine:probe_success:avg_over_time_30d"} <= recorded


@functools.cache
def _alert_tests() -> list[dict[str, Any]]:
    found = []
    for path in TESTS:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["tests"]:
            found += case.get("alert_rule_test", [])
    return found


@pytest.mark.parametrize("alert", sorted(r["alert"] for r in _alerts()))
def test_each_alert_is_tested_firing_and_not_firing(alert: str) -> None:
    cases = [c for c in _alert_tests() if c["alertname"] == alert]
    assert any(c.get("exp_alerts") for c in cases), f"{alert} is never shown firing"
    assert any(not c.get("exp_alerts") for c in cases), f"{alert} is never shown silent"


def test_test_files_use_the_rules_file() -> None:
    assert TESTS
    for path in TESTS:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert [(path.parent / f).resolve() for f in doc["rule_files"]] == [RULES], path


def test_metric_names_of_promql() -> None:
    assert metric_names('rate(a_total{x="b"}[5m]) / ignoring (y) group_left (z) b') == {
        "a_total", "b"}
    assert metric_names("sum by (uai) (1 - c) offset 5m > 1e3 * 0x1F") == {"c"}
    assert metric_names('max_over_time(d[1h:5m]) and on (uai) e{path=~"a|b"}') == {"d", "e"}
    assert metric_names('f{uai="$uai"}[$__rate_interval]') == {"f"}
    assert metric_names("label_values(carine_build_info, uai)") == {"carine_build_info"}
    assert metric_names("label_values(uai)") == set()
    assert metric_names('g{target="http://x/{y}"}') == {"g"}
    assert selector_labels('a{x="1", y!~"}"} + b{z="2"}') == [("a", {"x", "y"}), ("b", {"z"})]


def test_a_misspelt_metric_or_label_would_be_caught() -> None:
    expr = 'carine_deamon_up == 0 or carine_uplink_up{daemon="squid"} == 0'
    assert metric_names(expr) - KNOWN == {"carine_deamon_up"}
    [(name, matched)] = selector_labels(expr)
    assert matched - LABELS[name] == {"daemon"}


def test_recorded_series_keep_the_labels_of_their_aggregation(tmp_path: Path) -> None:
    rules = tmp_path / "x.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "x", "rules": [
        {"record": "x:a", "expr": "min by (uai, service) (carine_probe_success)"},
        {"record": "x:b", "expr": "avg_over_time(x:a[1d])"}]}]}))
    labels = known_labels(rules)
    assert labels["x:a"] == labels["x:b"] == {"uai", "service"}
    assert {"x:a", "x:b", "up", "carine_probe_success"} <= known_series(rules)
