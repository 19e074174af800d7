"""Grafana dashboard JSON from a few helpers: the datasource is an import input
(``${DS_PROMETHEUS}``), ids and grid positions follow the order of the panels, core panels only."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]

DS: Json = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
SCHEMA_VERSION = 39  # Grafana 10.4 / 11.0
CORE_PANELS = ("timeseries", "stat", "table", "state-timeline", "bargauge", "row")

UP_DOWN = [{"type": "value", "options": {
    "0": {"text": "KO", "color": "red", "index": 0},
    "1": {"text": "OK", "color": "green", "index": 1},
}}]

_OPTIONS: dict[str, Json] = {
    "timeseries": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                   "tooltip": {"mode": "multi", "sort": "desc"}},
    "stat": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
             "colorMode": "background", "graphMode": "none", "justifyMode": "auto",
             "orientation": "auto", "textMode": "auto"},
    "state-timeline": {"mergeValues": True, "showValue": "never", "alignValue": "left",
                       "rowHeight": 0.9, "tooltip": {"mode": "single", "sort": "none"},
                       "legend": {"displayMode": "list", "placement": "bottom",
                                  "showLegend": False}},
    "table": {"showHeader": True, "cellHeight": "sm",
              "footer": {"show": False, "reducer": ["sum"], "fields": ""}},
    "bargauge": {"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True,
                 "valueMode": "color", "minVizHeight": 16, "maxVizHeight": 24,
                 "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
}


def query(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> Json:
    """One Prometheus query of a panel (its refId is given by ``dashboard``)."""
    return {"datasource": DS, "editorMode": "code", "expr": expr, "legendFormat": legend,
            "range": not instant, "instant": instant,
            "format": "table" if table else "time_series"}


def steps(*pairs: tuple[float | None, str]) -> Json:
    """Absolute thresholds: (None, base colour), then (value, colour from that value up)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in pairs]}


def column(name: str, title: str, **props: Any) -> Json:
    """An override renaming a table column (and setting its unit, thresholds...)."""
    properties = [{"id": "displayName", "value": title}]
    properties += [{"id": k.replace("_", "."), "value": v} for k, v in props.items()]
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


def panel(kind: str, title: str, queries: list[Json], *, w: int = 12, h: int = 8,
          description: str = "", unit: str | None = None, thresholds: Json | None = None,
          mappings: list[Json] | None = None, options: Json | None = None,
          overrides: list[Json] | None = None, transformations: list[Json] | None = None,
          **defaults: Any) -> Json:
    """A panel; ``defaults`` go into fieldConfig.defaults (min, max, decimals, custom...)."""
    field: Json = {"mappings": mappings or [], **defaults}
    if unit is not None:
        field["unit"] = unit
    if thresholds is not None:
        field["thresholds"] = thresholds
        field.setdefault("color", {"mode": "thresholds"})
    elif kind == "timeseries":
        field.setdefault("color", {"mode": "palette-classic"})
    return {
        "type": kind, "title": title, "description": description, "datasource": DS,
        "gridPos": {"w": w, "h": h}, "targets": queries,
        "fieldConfig": {"defaults": field, "overrides": overrides or []},
        "options": {**_OPTIONS.get(kind, {}), **(options or {})},
        "transformations": transformations or [],
    }


def row(title: str) -> Json:
    return {"type": "row", "title": title, "collapsed": False, "panels": [],
            "gridPos": {"w": 24, "h": 1}}


def variable(name: str, label: str, definition: str, current: str | None = None) -> Json:
    """A query variable over Prometheus label values (``label_values(metric, label)``)."""
    chosen = {"text": current, "value": current, "selected": True} if current else {}
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "definition": definition, "refresh": 1, "sort": 1, "hide": 0, "regex": "",
            "includeAll": False, "multi": False, "current": chosen, "options": [],
            "query": {"query": definition, "refId": "PrometheusVariableQueryEditor-VariableQuery"}}


def _place(panels: list[Json]) -> list[Json]:
    """Ids in order; left to right, a new line when the width is used up (Grafana then pulls
    each panel up as far as it goes)."""
    x = y = line = 0
    for number, p in enumerate(panels, 1):
        p["id"] = number
        w, h = p["gridPos"]["w"], p["gridPos"]["h"]
        if x + w > 24 or p["type"] == "row":
            x, y, line = 0, y + line, 0
        p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
        x, line = x + w, max(line, h)
        for ref, target in enumerate(p.get("targets", [])):
            target["refId"] = chr(ord("A") + ref)
    return panels


def dashboard(uid: str, title: str, description: str, panels: list[Json],
              variables: list[Json], time_from: str = "now-24h") -> Json:
    kinds = sorted({p["type"] for p in panels} - {"row"})
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
                      "description": "le Prometheus de l'académie", "pluginId": "prometheus",
                      "pluginName": "Prometheus"}],
        "__requires": [{"type": "grafana", "id": "grafana", "name": "Grafana",
                        "version": "10.4.0"},
                       {"type": "datasource", "id": "prometheus", "name": "Prometheus",
                        "version": "1.0.0"}]
        + [{"type": "panel", "id": k, "name": k, "version": ""} for k in kinds],
        "annotations": {"list": []}, "description": description, "editable": True,
        "fiscalYearStartMonth": 0, "graphTooltip": 1, "id": None, "links": [],
        "panels": _place(panels), "refresh": "1m", "schemaVersion": SCHEMA_VERSION,
        "tags": ["carine"], "templating": {"list": variables},
        "time": {"from": time_from, "to": "now"}, "timepicker": {}, "timezone": "browser",
        "title": title, "uid": uid, "version": 1, "weekStart": "monday",
    }
