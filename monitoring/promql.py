"""The metric names a PromQL expression reads, and the names CARINE's Prometheus can answer:
enough to prove that the rules and dashboards only ask for series that exist (no full parser)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import yaml

from monitoring.catalogue import METRICS
from monitoring.fleet import TARGET_LABELS

RULES = Path(__file__).resolve().parent / "rules" / "carine.rules.yml"

# Words that look like names but are operators and modifiers of the language.
_KEYWORDS = frozenset({
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "inf", "nan",
})
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+|\[\[\w+\]\]")
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
# A name not glued to a digit, a letter or a dot: `5m`, `1e3` and `0x1F` are numbers.
_NAME = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", re.DOTALL)
_SELECTOR = re.compile(r"(?<![\w.:])([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^{}]*)\}")
_MATCHER_LABEL = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")


def metric_names(expr: str) -> set[str]:
    """Every metric an expression selects (``rate(x_total[5m])`` -> ``{"x_total"}``).

    Grafana's variables (``$uai``, ``$__rate_interval``) are ignored, and its
    ``label_values(<expr>, <label>)`` reads ``<expr>``."""
    text = _STRING.sub('""', expr)
    grafana = _LABEL_VALUES.match(text)
    if grafana:
        text = grafana.group(1)
    elif text.lstrip().startswith("label_values("):  # label_values(label): no metric
        return set()
    text = _GRAFANA_VARIABLE.sub(" ", text)
    # Label lists first: `by (uai)` must not leave `uai` behind once the matchers are gone.
    text = _LABEL_LIST.sub(" ", text)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    names = set()
    for match in _NAME.finditer(text):
        name, call = match.group(1), match.group(2)
        if call is None and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def selector_labels(expr: str) -> list[tuple[str, set[str]]]:
    """The label names each ``metric{...}`` selector of an expression matches on."""
    text = _GRAFANA_VARIABLE.sub("x", _STRING.sub('""', expr))
    return [(m.group(1), set(_MATCHER_LABEL.findall(m.group(2)))) for m in _SELECTOR.finditer(text)]


def catalogue_series() -> set[str]:
    """The series names the exporter serves: a histogram's ``_bucket``, ``_sum``, ``_count``."""
    names: set[str] = set()
    for metric in METRICS:
        if metric.kind == "histogram":
            names.update(f"{metric.name}{suffix}" for suffix in ("_bucket", "_sum", "_count"))
        else:
            names.add(metric.name)
    return names


def rule_groups(path: Path = RULES) -> list[dict[str, object]]:
    """The groups of a Prometheus rules file, as YAML gives them."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    groups: list[dict[str, object]] = doc["groups"]
    return groups


def recorded_series(groups: Iterable[dict[str, object]]) -> set[str]:
    """The names recording rules add."""
    return {str(rule["record"]) for group in groups for rule in _rules(group) if "record" in rule}


def known_series(path: Path = RULES) -> set[str]:
    """What a query may name: the catalogue, our recording rules, and Prometheus's ``up``."""
    return catalogue_series() | recorded_series(rule_groups(path)) | {"up"}


# What Prometheus adds to every scraped series: the job, the instance, our file_sd labels.
SCRAPE_LABELS = frozenset({"job", "instance", *TARGET_LABELS})
_AGGREGATION_BY = re.compile(r"^\s*\w+\s+by\s*\(([^()]*)\)")


def known_labels(path: Path = RULES) -> dict[str, frozenset[str]]:
    """The label names each known series carries (a matcher on another name is a typo)."""
    labels: dict[str, frozenset[str]] = {"up": SCRAPE_LABELS}
    for metric in METRICS:
        own = frozenset({"uai", *metric.labels}) | SCRAPE_LABELS
        names = {f"{metric.name}{s}" for s in ("_bucket", "_sum", "_count")} \
            if metric.kind == "histogram" else {metric.name}
        for name in names:
            labels[name] = own | {"le"} if name.endswith("_bucket") else own
    for group in rule_groups(path):
        for rule in _rules(group):
            if "record" not in rule:
                continue
            expr = str(rule["expr"])
            by = _AGGREGATION_BY.match(expr)
            if by:  # `min by (a, b) (...)` keeps a and b
                labels[str(rule["record"])] = frozenset(x.strip() for x in by.group(1).split(","))
            else:  # `avg_over_time(x[1d])` keeps the labels of x
                read = [labels[n] for n in metric_names(expr) if n in labels]
                labels[str(rule["record"])] = frozenset().union(*read)
    return labels


def _rules(group: dict[str, object]) -> list[dict[str, object]]:
    rules = group.get("rules", [])
    return rules if isinstance(rules, list) else []
