"""``generations/status.json``: the outcome of the last list update attempt, for monitoring
(D-SUP-2: age of the lists, failed updates) — written atomically after every attempt."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from filtering.generations import Generation, Store, utc_now, write_json

Result = Literal["ok", "refused", "error"]


def read_status(store: Store) -> dict[str, Any]:
    """The last status written, or {} (never updated, or unreadable)."""
    try:
        doc = json.loads(store.status_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_status(store: Store, *, action: str, result: Result, reason: str, started: datetime,
                 current: Generation | None, source: str | None = None) -> dict[str, Any]:
    """Record one attempt (``action`` update or rollback); returns the document written.

    ``last_success`` survives failed attempts, so that monitoring can tell "refused today, lists
    from last week" from "refused today, lists from yesterday"."""
    finished = utc_now()
    previous = read_status(store)
    doc: dict[str, Any] = {
        "format": 1,
        "action": action,
        "attempted": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "seconds": round((finished - started).total_seconds(), 3),
        "result": result,
        "reason": reason,
        "source": source,
        "last_success": (finished.isoformat(timespec="seconds") if result == "ok"
                         else previous.get("last_success")),
        "generation": current.name if current else None,
        "generation_created": current.created if current else None,
        "generation_published": current.published if current else None,
        "domains": current.domains if current else 0,
    }
    write_json(store.status_path, doc)
    return doc
