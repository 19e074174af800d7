"""promtool judges what the supervision ships: `promtool check rules` accepts the rules file,
`promtool test rules` runs monitoring/rules/tests/*.yml (each alert firing and not firing), the
dashboards' queries parse, and `promtool check config` accepts the example
configuration with the file_sd lists that `carine fleet targets` writes (it reads every target
file a configuration names).

Negative cases prove each check really asks promtool. Without promtool (Debian package
`prometheus`) the tests skip on a workstation and fail in CI (see tests/conftest.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from appliance.cli import main
from appliance.run import Result, run
from monitoring.dashboards import DASHBOARDS
from monitoring.promql import RULES
from tests.conftest import require_tool

pytestmark = pytest.mark.contract

RULE_TESTS = sorted((RULES.parent / "tests").glob("*.yml"))
GRAFANA_RANGES = {"$__rate_interval": "5m", "$__range": "1d", "$__interval": "1m"}


def promtool(*args: str | Path) -> Result:
    return run([require_tool("promtool"), *map(str, args)], check=False, timeout=300)


def test_promtool_accepts_the_rules() -> None:
    result = promtool("check", "rules", RULES)
    assert result.ok, result.output()
    assert "SUCCESS" in result.output()


def test_promtool_runs_the_rule_tests() -> None:
    assert RULE_TESTS
    result = promtool("test", "rules", *RULE_TESTS)
    assert result.ok, result.output()
    assert result.output().count("SUCCESS") == len(RULE_TESTS), result.output()


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    broken = tmp_path / "carine.rules.yml"
    broken.write_text(RULES.read_text(encoding="utf-8").replace("== 0", "=== 0", 1))
    result = promtool("check", "rules", broken)
    assert not result.ok, result.output()


def test_promtool_test_fails_when_an_alert_is_wrong(tmp_path: Path) -> None:
    # The same tests against rules whose uplink guard is gone: the ENT alert then fires for a
    # school whose uplink is down, and the tests must say so.
    rules = tmp_path / "carine.rules.yml"
    rules.write_text(RULES.read_text(encoding="utf-8").replace(
        "          and on (uai) carine_uplink_up == 1\n", "", 1))
    (tmp_path / "tests").mkdir()
    probes = tmp_path / "tests" / "probes.test.yml"
    probes.write_text((RULES.parent / "tests" / "probes.test.yml").read_text(encoding="utf-8"))
    result = promtool("test", "rules", probes)
    assert not result.ok
    assert "CarineServiceUnreachable" in result.output()


def _grafana_free(expr: str) -> str:
    for variable, duration in GRAFANA_RANGES.items():
        expr = expr.replace(variable, duration)
    return re.sub(r"\$\{?\w+\}?", "x", expr)


def test_dashboard_queries_parse(tmp_path: Path) -> None:
    rules: list[dict[str, object]] = []
    for name, build in sorted(DASHBOARDS.items()):
        for panel in build()["panels"]:
            for target in panel.get("targets", []):
                rules.append({"record": f"dashboard_query_{len(rules)}",
                              "expr": _grafana_free(target["expr"]),
                              "labels": {"dashboard": name, "panel": panel["title"]}})
    path = tmp_path / "dashboards.rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]},
                                   allow_unicode=True))
    result = promtool("check", "rules", path)
    assert result.ok, result.output()


def _prometheus_config(tmp_path: Path, targets: Path) -> Path:
    """The shipped example, pointed at this test's rules and target lists."""
    example = (RULES.parent.parent / "prometheus.example.yml").read_text(encoding="utf-8")
    config = tmp_path / "prometheus.yml"
    config.write_text(example.replace("/etc/prometheus/rules/carine.rules.yml", str(RULES))
                      .replace("/etc/prometheus/file_sd/carine", str(targets)))
    return config


def test_fleet_targets_pass_promtool_check_config(tmp_path: Path) -> None:
    inventory = tmp_path / "schools"
    inventory.write_text(
        "[lycees]\n"
        "lycee-perrin ansible_host=10.69.1.2 carine_uai=0691234X carine_school='Lycée Perrin'"
        " carine_label_bassin=centre\n"
        "[colleges]\n"
        "college-a ansible_host=2001:db8::1 carine_uai=0690001A carine_metrics_port=9200\n"
        "college-b ansible_host=college-b.ac-lyon.fr carine_uai=0690002B\n"
        "[all:vars]\ncarine_academie=lyon\n", encoding="utf-8")
    out = tmp_path / "file_sd"
    assert main(["fleet", "targets", str(inventory), "--out", str(out)]) == 0
    config = _prometheus_config(tmp_path, out)
    result = promtool("check", "config", config)
    assert result.ok, result.output()
    assert "1 rule files found" in result.output()
    # A target list Prometheus would refuse is refused here too: the check reads the files.
    (out / "lycees.json").write_text(json.dumps([{"targets": ["10.0.0.1:9108"],
                                                  "labels": {"bad-name": "x"}}]))
    result = promtool("check", "config", config)
    assert not result.ok
    assert "bad-name" in result.output()
