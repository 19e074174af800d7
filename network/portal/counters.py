"""The portal's login counters for the exporter (carine_portal_logins_total by result): kept in
memory, written atomically to run/portal/logins.json by the portal's loop every few seconds."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from appliance.files import write_atomic

FILE = Path("portal") / "logins.json"
# Outcomes that are not a login attempt's end (steps in between, password changes).
NOT_LOGINS = {"charter", "password-changed"}


def result_of(outcome: str, method: str, reason: str | None) -> str | None:
    """The metric's result for one journaled auth event of the portal, or None when the event
    is not the end of a login attempt: "ok", the failure's reason ("bad-password", "locked",
    "unknown-login", "rate-limited"...), prefixed "voucher-" for voucher logins."""
    if outcome in NOT_LOGINS or method not in ("portal", "voucher"):
        return None
    result = "ok" if outcome == "success" else (reason or "failure")
    return result if method == "portal" else f"voucher-{result}"


class LoginCounters:
    """Thread-safe counts by result; ``flush`` writes them when they changed."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.started = time.time()
        self.written: dict[str, int] | None = None

    def count(self, result: str) -> None:
        with self.lock:
            self.counts[result] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            counts = dict(sorted(self.counts.items()))
        return {"pid": os.getpid(), "started": self.started, "written": time.time(),
                "logins": counts}

    def flush(self) -> None:
        if self.path is None:
            return
        doc = self.snapshot()
        if doc["logins"] == self.written and self.path.exists():
            return
        try:
            write_atomic(self.path, json.dumps(doc, sort_keys=True))
        except OSError:
            return  # a read-only run folder: the metric is absent, logins go on
        self.written = doc["logins"]


def read(run: Path) -> dict[str, float]:
    """The counts the portal last wrote under ``run`` (empty when none or unreadable)."""
    try:
        doc = json.loads((run / FILE).read_text(encoding="utf-8"))
        logins = doc["logins"]
        return {str(k): float(v) for k, v in logins.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
