"""The Grafana dashboards CARINE ships, written as JSON for import into the académie's Grafana:
``python -m monitoring.dashboards`` rewrites monitoring/dashboards/*.json after a change here."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from monitoring.dashboard_fleet import fleet_dashboard
from monitoring.dashboard_school import school_dashboard
from monitoring.grafana import Json

FOLDER = Path(__file__).resolve().parent / "dashboards"
DASHBOARDS: dict[str, Callable[[], Json]] = {
    "carine-school.json": school_dashboard,
    "carine-fleet.json": fleet_dashboard,
}


def as_text(doc: Json) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in DASHBOARDS.items():
        path = folder / name
        path.write_text(as_text(build()), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER):
        print(f"wrote {path}")
