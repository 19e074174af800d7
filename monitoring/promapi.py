"""The probe series of a month from Prometheus's HTTP API (``/api/v1/query_range``), or from a
file that saved such an answer. Only the standard library: urllib, with a timeout."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from appliance.errors import CarineError
from monitoring.availability import STEP, Key, Month

# Prometheus refuses a range query of more than 11,000 points per series: a week at one
# minute is 10,080, so a month takes five queries.
CHUNK_STEPS = 7 * 24 * 60
VALUE = re.compile(r"^[A-Za-z0-9_.:/-]+$")


def availability_query(uai: str | None = None, service: str | None = None) -> str:
    """Each target up on a path when all its checks pass (as carine:probe_success:min)."""
    matchers = ['path=~"direct|proxy"']
    for label, value in (("uai", uai), ("service", service)):
        if value is not None:
            if not VALUE.match(value):
                raise CarineError(f"{value!r} is not a {label}", "letters, digits, _ . : / -")
            matchers.append(f'{label}="{value}"')
    return ("min by (uai, service, target, path) "
            f"(carine_probe_success{{{', '.join(matchers)}}})")


def fetch_month(base_url: str, query: str, month: Month, timeout: float) -> dict[str, Any]:
    """One query_range answer covering the month (the weekly answers merged)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CarineError(f"{base_url!r} is not a Prometheus URL", "e.g. http://prometheus:9090")
    merged: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    last = month.start + (month.slots - 1) * STEP
    start = month.start
    while start <= last:
        end = min(start + (CHUNK_STEPS - 1) * STEP, last)
        params = {"query": query, "start": f"{start:.0f}", "end": f"{end:.0f}", "step": STEP}
        url = f"{base_url.rstrip('/')}/api/v1/query_range?{urlencode(params)}"
        for series in _get(url, timeout)["data"]["result"]:
            key = tuple(sorted(series["metric"].items()))
            merged.setdefault(key, {"metric": series["metric"], "values": []})
            merged[key]["values"] += series["values"]
        start = end + STEP
    return {"status": "success",
            "data": {"resultType": "matrix", "result": list(merged.values())}}


def _get(url: str, timeout: float) -> dict[str, Any]:
    request = Request(url, headers={"Accept": "application/json"})  # noqa: S310 (scheme checked)
    try:
        with urlopen(request, timeout=timeout) as answer:  # noqa: S310 (scheme checked)
            body = answer.read()
    except HTTPError as exc:
        raise CarineError(f"Prometheus answered {exc.code}: {_error_of(exc.read())}",
                          "check the URL and the query") from None
    except (URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CarineError(f"cannot query Prometheus at {urlsplit(url).netloc}: {reason}",
                          "check the URL, the network, and --timeout") from None
    doc = _json(body)
    if doc.get("status") != "success":
        raise CarineError(f"Prometheus refused the query: {_error_of(body)}")
    check_matrix(doc, url)
    return doc


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        raise CarineError("Prometheus's answer is not JSON",
                          "is it the URL of the Prometheus server itself?") from None
    if not isinstance(doc, dict):
        raise CarineError("Prometheus's answer is not a JSON object")
    return doc


def _error_of(body: bytes) -> str:
    try:
        doc = json.loads(body)
        return f"{doc.get('errorType', 'error')}: {doc.get('error', '?')}"
    except ValueError:
        return body[:200].decode("utf-8", "replace").strip() or "(no detail)"


def check_matrix(doc: dict[str, Any], source: str) -> None:
    """A query_range answer: a matrix of series with ``metric`` and ``values``."""
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "matrix" \
            or not isinstance(data.get("result"), list) \
            or not all(isinstance(s, dict) and isinstance(s.get("metric"), dict)
                       and isinstance(s.get("values"), list) for s in data["result"]):
        raise CarineError(f"{source}: not a query_range answer (a matrix of series)",
                          "save one with --save, or from /api/v1/query_range")


def load_series(path: Path) -> dict[str, Any]:
    """A query_range answer saved earlier (``--save``, or curl)."""
    try:
        doc = _json(path.read_bytes())
    except OSError as exc:
        raise CarineError(f"cannot read {path}: {exc}") from None
    check_matrix(doc, str(path))
    return doc


def samples_of(doc: dict[str, Any]) -> dict[Key, list[tuple[float, float]]]:
    """(timestamp, value) per (uai, service, target, path)."""
    out: dict[Key, list[tuple[float, float]]] = {}
    for series in doc["data"]["result"]:
        m = series["metric"]
        key = (m.get("uai", ""), m.get("service", ""), m.get("target", ""), m.get("path", ""))
        try:
            out.setdefault(key, []).extend((float(t), float(v)) for t, v in series["values"])
        except (TypeError, ValueError):
            raise CarineError(f"series {key} has a sample that is not [time, \"value\"]") from None
    return out
