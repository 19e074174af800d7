"""The Grafana dashboards: every query reads only catalogue metrics, our recordings or `up`, with
labels those series carry; panels have titles and unique ids; the datasource is the import
input; only core panels; and the committed JSON is what monitoring/dashboards.py builds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from monitoring.dashboards import DASHBOARDS, FOLDER, as_text
from monitoring.grafana import CORE_PANELS, DS, SCHEMA_VERSION
from monitoring.promql import known_labels, known_series, metric_names, selector_labels

pytestmark = pytest.mark.unit

KNOWN = known_series()
LABELS = known_labels()


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FOLDER / name).read_text(encoding="utf-8"))
    return doc


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))  # a collapsed row holds its panels


def _queries(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, query) for every panel target and every query variable."""
    for p in _panels(doc["panels"]):
        for t in p.get("targets", []):
            yield f"panel {p['id']} {p['title']!r} {t['refId']}", t["expr"]
    for v in doc["templating"]["list"]:
        if v["type"] == "query":
            yield f"variable {v['name']}", v["query"]["query"]


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_committed_json_is_what_the_code_builds(name: str) -> None:
    expected = as_text(DASHBOARDS[name]())
    assert (FOLDER / name).read_text(encoding="utf-8") == expected, \
        "run `.venv/bin/python -m monitoring.dashboards` and review the diff"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_queries_read_only_known_series_and_labels(name: str) -> None:
    doc = _load(name)
    queries = list(_queries(doc))
    assert queries
    for where, expr in queries:
        names = metric_names(expr)
        assert names, f"{where}: reads no metric: {expr}"
        assert names <= KNOWN, f"{where}: unknown {names - KNOWN}"
        for metric, matched in selector_labels(expr):
            assert matched <= LABELS[metric], f"{where}: {metric} has no {matched - LABELS[metric]}"


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_panels_have_titles_unique_ids_and_core_types(name: str) -> None:
    doc = _load(name)
    panels = list(_panels(doc["panels"]))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for p in panels:
        assert p["title"].strip(), f"panel {p['id']} has no title"
        assert p["type"] in CORE_PANELS, f"{p['type']} needs a plugin"
        if p["type"] != "row":
            assert p["datasource"] == DS
            assert all(t["datasource"] == DS for t in p["targets"])
            refs = [t["refId"] for t in p["targets"]]
            assert len(refs) == len(set(refs))
        g = p["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["h"] > 0


@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_importable_with_a_datasource_input(name: str) -> None:
    doc = _load(name)
    assert doc["schemaVersion"] == SCHEMA_VERSION
    assert doc["id"] is None and doc["uid"] and doc["title"]
    [source] = doc["__inputs"]
    assert source["name"] == "DS_PROMETHEUS" and source["pluginId"] == "prometheus"
    assert "${DS_PROMETHEUS}" in json.dumps(doc)
    for v in doc["templating"]["list"]:
        assert v["datasource"] == DS
    required = {r["id"] for r in doc["__requires"] if r["type"] == "panel"}
    assert required == {p["type"] for p in _panels(doc["panels"])} - {"row"}


def test_school_dashboard_is_per_school() -> None:
    doc = _load("carine-school.json")
    assert [v["name"] for v in doc["templating"]["list"]] == ["uai"]
    for where, expr in _queries(doc):
        if where.startswith("panel"):
            assert 'uai="$uai"' in expr, f"{where} is not limited to the school: {expr}"


def test_fleet_dashboard_has_the_schools_table_and_30_day_availability() -> None:
    doc = _load("carine-fleet.json")
    by_title = {p["title"]: p for p in _panels(doc["panels"])}
    schools = by_title["Établissements"]
    shown = {o["properties"][0]["value"] for o in schools["fieldConfig"]["overrides"]}
    assert {"UAI", "Établissement", "ENT", "Âge des listes", "Démons arrêtés"} <= shown
    availability = by_title["Disponibilité par établissement et service"]
    assert all("avg_over_time_30d" in t["expr"] for t in availability["targets"])
