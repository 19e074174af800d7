"""Counters of one filtering helper process, written to a small JSON file every few seconds for
the exporter (D-SUP-2): decisions by profile, category and action, and decision latency."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

from appliance.files import write_atomic

# Latency buckets in seconds, Prometheus-style (cumulative when exported).
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)
WRITE_EVERY = 5.0


class Counters:
    """In-process counters; ``flush`` writes them atomically when due (or when forced)."""

    def __init__(self, path: Path | None, index_meta: dict[str, object] | None = None) -> None:
        self.path = path
        self.decisions: Counter[tuple[str, str, str]] = Counter()
        self.latency = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.errors = 0
        self.index_meta = index_meta or {}
        self.started = time.time()
        self.next_write = 0.0

    def decided(self, profile: str, category: str, action: str, seconds: float) -> None:
        self.decisions[(profile, category, action)] += 1
        self.latency_sum += seconds
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.latency[i] += 1
                return
        self.latency[-1] += 1

    def cached(self, tally: dict[tuple[str, str, str], int], seconds: float) -> int:
        """Decisions answered from the cache, ``tally`` by (profile, category, action), which
        took ``seconds`` together: each one is too quick to time alone, so each counts in the
        bucket of their mean. Returns how many there were."""
        count = sum(tally.values())
        for key, n in tally.items():
            self.decisions[key] += n
        self.latency_sum += seconds
        mean = seconds / count
        bucket = next((i for i, bound in enumerate(BUCKETS) if mean <= bound), len(BUCKETS))
        self.latency[bucket] += count
        return count

    def snapshot(self) -> dict[str, object]:
        return {
            "pid": os.getpid(), "started": self.started, "written": time.time(),
            "decisions": [{"profile": p, "category": c, "action": a, "count": n}
                          for (p, c, a), n in sorted(self.decisions.items())],
            "latency_buckets": list(BUCKETS), "latency_counts": self.latency,
            "latency_sum": self.latency_sum, "errors": self.errors,
            "index": {k: self.index_meta.get(k) for k in ("created", "source", "sha256")},
        }

    def flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.path is None or (not force and now < self.next_write):
            return
        self.next_write = now + WRITE_EVERY
        try:
            write_atomic(self.path, json.dumps(self.snapshot()))
        except OSError:
            self.path = None  # a read-only run folder must not cost a write per batch


def read_all(folder: Path) -> list[dict[str, object]]:
    """Every helper's last counters (for the exporter), skipping unreadable files."""
    out = []
    for path in sorted(folder.glob("helper-*.json")):
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue
    return out
