"""Declared maintenance windows (D-SUP-3: at night, in the holidays), a YAML list of
``{start, end, comment}``; a time without a zone is the schools' wall clock, ``end`` excluded."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from appliance.errors import CarineError
from monitoring.availability import Window

KEYS = ("start", "end", "comment")


class MaintenanceInvalid(CarineError):
    """A maintenance file that does not say clearly what to leave out: no report from it."""

    exit_code = 2


def load_windows(path: Path, zone: str) -> list[Window]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MaintenanceInvalid(f"cannot read {path}: {exc}") from None
    return parse_windows(text, str(path), zone)


def parse_windows(text: str, source: str, zone: str) -> list[Window]:
    """Every window, or MaintenanceInvalid listing every problem::

        - start: 2025-05-10 22:00
          end: 2025-05-11 04:00
          comment: mise à jour de l'ENT
        - start: 2025-04-12          # a date alone is midnight: the holidays, end day excluded
          end: 2025-04-28
          comment: vacances de printemps
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MaintenanceInvalid(f"{source}: invalid YAML: {exc}") from None
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise MaintenanceInvalid(f"{source}: a list of windows is expected",
                                 "- {start: 2025-05-10 22:00, end: 2025-05-11 04:00, comment: …}")
    tz = ZoneInfo(zone)
    windows: list[Window] = []
    problems: list[str] = []
    for i, item in enumerate(doc):
        where = f"[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: a mapping with start, end and comment is expected")
            continue
        problems += [f"{where}: unknown key {k!r} (start, end, comment)"
                     for k in item if k not in KEYS]
        start = _moment(item.get("start"), tz, f"{where}.start", problems)
        end = _moment(item.get("end"), tz, f"{where}.end", problems)
        if start is not None and end is not None:
            if end <= start:
                problems.append(f"{where}: end is not after start")
            else:
                windows.append(Window(start, end, str(item.get("comment") or "")))
    if problems:
        raise MaintenanceInvalid(f"{source}: {len(problems)} problem(s)\n  - "
                                 + "\n  - ".join(problems),
                                 "times as 2025-05-10 22:00 (local), 2025-05-10T20:00:00Z, "
                                 "or a date alone for midnight")
    return windows


def _moment(value: Any, tz: ZoneInfo, where: str, problems: list[str]) -> float | None:
    """Epoch seconds of a YAML timestamp, a date or an ISO 8601 text."""
    if value is None:
        problems.append(f"{where} is missing")
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            problems.append(f"{where}: {value!r} is not a date and time")
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if not isinstance(value, datetime):
        problems.append(f"{where}: {value!r} is not a date and time")
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return float(value.timestamp())
