"""When each probe runs (pure): its own interval, a random jitter, never two runs of one probe
at once. Times are given (monotonic seconds), and so is the random generator."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

JITTER = 0.1  # each run moves by up to ±10 % of the interval, so probes do not beat in step
FIRST_SPREAD = 5.0  # the first runs are spread over at most this many seconds after start


@dataclass
class Schedule:
    """Next due time of every probe, by key."""

    intervals: dict[str, float]
    rng: random.Random = field(default_factory=random.Random)
    due: dict[str, float] = field(default_factory=dict)
    started: dict[str, float] = field(default_factory=dict)

    def start(self, now: float) -> None:
        """First runs soon after start, spread a little so they do not all start at once."""
        for key, interval in self.intervals.items():
            self.due[key] = now + self.rng.uniform(0, min(FIRST_SPREAD, interval * JITTER))

    def take_due(self, now: float) -> list[str]:
        """Probes to start now; they count as running until ``done``."""
        keys = sorted((k for k, t in self.due.items() if t <= now), key=lambda k: self.due[k])
        for key in keys:
            del self.due[key]
            self.started[key] = now
        return keys

    def done(self, key: str, now: float) -> None:
        """A probe finished: its next run is one interval (with jitter) after its start."""
        start = self.started.pop(key, now)
        interval = self.intervals[key]
        self.due[key] = max(now, start + interval + self.rng.uniform(-JITTER, JITTER) * interval)

    def all_now(self, now: float) -> None:
        """Run every probe that is not running as soon as possible (SIGUSR1)."""
        for key in self.due:
            self.due[key] = now

    def delay(self, now: float) -> float | None:
        """Seconds until the next probe is due (None: everything is running)."""
        if not self.due:
            return None
        return max(0.0, min(self.due.values()) - now)

    def running(self) -> set[str]:
        return set(self.started)
