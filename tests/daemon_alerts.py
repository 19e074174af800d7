"""A promtool rule test, made for a list of daemons: each left at 0 fires CarineDaemonDown with
the rule's own texts after its ``for``; each back by the next 15 s scrape does not. Shared by
the contract test (every daemon the example declares) and the lab's fault drill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from monitoring.promql import RULES

OTHER = "0000000Z"  # the school whose daemons came back at once


def rule_annotations(daemon: str, uai: str) -> dict[str, str]:
    rule = next(r for g in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
                for r in g["rules"] if r.get("alert") == "CarineDaemonDown")
    return {k: v.replace("{{ $labels.uai }}", uai).replace("{{ $labels.daemon }}", daemon)
            for k, v in rule["annotations"].items()}


def daemon_down_test(daemons: list[str], uai: str) -> dict[str, Any]:
    series = []
    for name in daemons:
        series.append({"series": f'carine_daemon_up{{daemon="{name}",uai="{uai}"}}',
                       "values": "1 0x12"})  # seen at 0 after the kill, left down
        series.append({"series": f'carine_daemon_up{{daemon="{name}",uai="{OTHER}"}}',
                       "values": "1 0 1x11"})  # back by the next scrape: no alert
    fired = [{"exp_labels": {"daemon": name, "uai": uai, "severity": "critical"},
              "exp_annotations": rule_annotations(name, uai)} for name in daemons]
    return {"rule_files": [str(RULES)], "evaluation_interval": "15s",
            "tests": [{"interval": "15s", "input_series": series, "alert_rule_test": [
                {"alertname": "CarineDaemonDown", "eval_time": "1m", "exp_alerts": []},
                {"alertname": "CarineDaemonDown", "eval_time": "3m", "exp_alerts": fired}]}]}


def write_test(path: Path, daemons: list[str], uai: str) -> Path:
    path.write_text(yaml.safe_dump(daemon_down_test(daemons, uai), sort_keys=False),
                    encoding="utf-8")
    return path
