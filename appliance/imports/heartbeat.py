"""The import's "message de vie" (SDET §10.2.4.2.3, D-DIR-2): a small JSON file in the state
folder that every import run rewrites and the metrics exporter reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from appliance.files import write_atomic

NAME = "imports/heartbeat.json"


def path_in(state: Path) -> Path:
    return state / NAME


def read(state: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path_in(state).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def last_success(doc: dict[str, Any] | None) -> float | None:
    """When an import last succeeded (what the exporter publishes), from a heartbeat document."""
    value = doc.get("last_success") if doc else None
    return float(value) if isinstance(value, int | float) else None


def write(state: Path, status: str, now: float, counts: dict[str, int],
          files: list[str], message: str = "") -> None:
    """Record one run; ``last_success`` moves only when ``status`` is ok, so a run that keeps
    failing lets the heartbeat age and the alert fire (CarineImportHeartbeatMissing)."""
    previous = read(state)
    doc = {"version": 1, "status": status, "last_run": now,
           "last_success": now if status == "ok" else last_success(previous),
           "counts": counts, "files": [Path(f).name for f in files], "message": message}
    write_atomic(path_in(state), json.dumps(doc, indent=1, sort_keys=True) + "\n", mode=0o644)
