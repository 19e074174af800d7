"""Attempts per client address: a token bucket each, refilled continuously, so that a client
may try a few times in a row but never guess at speed (the account lockout is the second wall)."""

from __future__ import annotations

import threading

MAX_CLIENTS = 100_000  # a school has a few thousand devices: beyond this, start afresh


class RateLimit:
    """``per_minute`` attempts a minute per address, at most ``per_minute`` in a burst."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, client: str, now: float) -> bool:
        """Take one attempt for ``client`` at ``now`` (monotonic seconds); False if none left."""
        with self.lock:
            tokens, last = self.buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self.buckets[client] = (tokens, now)
                return False
            if len(self.buckets) >= MAX_CLIENTS and client not in self.buckets:
                self.buckets.clear()
            self.buckets[client] = (tokens - 1.0, now)
            return True

    def retry_after(self, client: str, now: float) -> int:
        """Seconds until ``client`` may try again (0 when it may now)."""
        with self.lock:
            tokens, last = self.buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        return 0 if tokens >= 1.0 else int((1.0 - tokens) / self.rate) + 1
