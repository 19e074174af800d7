"""Daily availability of each probed service, kept for the console's 30-day chart: per service
and day (the school's), how many check rounds succeeded out of how many. Small JSON, atomic."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance.files import write_atomic

KEEP_DAYS = 30
FILE = "availability.json"
History = dict[str, dict[str, list[int]]]  # service -> day (ISO) -> [ok, total]


def load(path: Path) -> History:
    try:
        doc: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def tally(path: Path, outcomes: Iterable[tuple[str, bool]], now: datetime, zone: str) -> None:
    """Count one round: (service, success) of each check; days older than 30 are dropped."""
    history = load(path)
    today = now.astimezone(ZoneInfo(zone)).date()
    for service, success in outcomes:
        day = history.setdefault(service, {}).setdefault(today.isoformat(), [0, 0])
        day[0] += int(success)
        day[1] += 1
    oldest = (today - timedelta(days=KEEP_DAYS - 1)).isoformat()
    for days in history.values():
        for old in [d for d in days if d < oldest]:
            del days[old]
    write_atomic(path, json.dumps(history, sort_keys=True) + "\n", 0o644)


def series(history: History, service: str, today: date) -> list[tuple[date, int, int]]:
    """The last 30 days of ``service``: (day, successful rounds, rounds), oldest first."""
    out = []
    for back in range(KEEP_DAYS - 1, -1, -1):
        day = today - timedelta(days=back)
        ok, total = history.get(service, {}).get(day.isoformat(), [0, 0])
        out.append((day, ok, total))
    return out
