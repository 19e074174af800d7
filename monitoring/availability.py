"""Monthly availability of each probed target against the site's objective (D-SUP-3): minutes
up, down and without data, declared maintenance windows left out. Pure: samples in, figures out."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from appliance.errors import CarineError

STEP = 60
"""One slot per minute: the prober's default interval."""

Key = tuple[str, str, str, str]
"""uai, service, target, path."""
Samples = Mapping[Key, Sequence[tuple[float, float]]]
"""(timestamp, value) per series, as Prometheus's query_range gives them."""

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Month:
    """A calendar month in the schools' time zone (so 743 or 745 hours when the clocks change)."""

    name: str
    zone: str
    start: float  # epoch seconds: aware datetimes in one zone subtract as wall clocks
    end: float

    @classmethod
    def parse(cls, text: str, zone: str = "Europe/Paris") -> Month:
        match = MONTH.match(text)
        if match is None:
            raise CarineError(f"{text!r} is not a month", "give it as YYYY-MM, e.g. 2025-05")
        year, month = int(match.group(1)), int(match.group(2))
        tz = ZoneInfo(zone)
        first = datetime(year, month, 1, tzinfo=tz)
        after = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
        return cls(text, zone, first.timestamp(), after.timestamp())

    @property
    def slots(self) -> int:
        return int((self.end - self.start) // STEP)

    def slot(self, timestamp: float) -> int | None:
        """The minute of the month a timestamp falls in, or None outside the month."""
        if not self.start <= timestamp < self.end:
            return None
        return int((timestamp - self.start) // STEP)


@dataclass(frozen=True)
class Window:
    """A declared maintenance window: [start, end), epoch seconds."""

    start: float
    end: float
    comment: str = ""


@dataclass(frozen=True)
class Figures:
    """One target on one path over the month, in minutes."""

    key: Key
    up: int
    down: int
    unknown: int
    maintenance: int

    @property
    def measured(self) -> int:
        return self.up + self.down

    @property
    def availability(self) -> float | None:
        """Percent of the measured minutes the target was up; None without any measure."""
        return 100.0 * self.up / self.measured if self.measured else None

    def met(self, objective: float) -> bool | None:
        value = self.availability
        return None if value is None else value >= objective

    def allowed_down(self, objective: float) -> int:
        """Minutes of outage the objective allows over the measured time."""
        return math.floor(self.measured * (100.0 - objective) / 100.0 + 1e-9)


def maintenance_slots(month: Month, windows: Iterable[Window]) -> set[int]:
    """The minutes of the month inside a window (clipped to the month; overlaps count once)."""
    slots: set[int] = set()
    for w in windows:
        first = max(w.start, month.start)
        last = min(w.end, month.end)
        if first >= last:
            continue
        # A minute is in maintenance when it starts inside the window.
        begin = math.ceil((first - month.start) / STEP)
        stop = math.ceil((last - month.start) / STEP)
        slots.update(range(begin, stop))
    return slots


def month_figures(month: Month, samples: Samples, windows: Iterable[Window]) -> list[Figures]:
    """Figures of every series, sorted by uai, service, target and path.

    A minute with no sample is unknown, neither up nor down (the appliance was off, or not
    yet probing that target); a minute with several samples counts as its worst."""
    maintenance = maintenance_slots(month, windows)
    out = []
    for key in sorted(samples):
        worst: dict[int, float] = {}
        for timestamp, value in samples[key]:
            slot = month.slot(timestamp)
            if slot is None or slot in maintenance or math.isnan(value):
                continue
            worst[slot] = min(value, worst.get(slot, value))
        up = sum(1 for v in worst.values() if v >= 1)
        down = len(worst) - up
        unknown = month.slots - len(maintenance) - len(worst)
        out.append(Figures(key, up, down, unknown, len(maintenance)))
    return out


def as_local(timestamp: float, zone: str) -> datetime:
    """A timestamp as the schools' wall clock, for reports."""
    return datetime.fromtimestamp(timestamp, ZoneInfo(zone))


def minutes(value: int) -> str:
    """540 -> '9 h 00', 5 -> '5 min' (hours even beyond a day: a month is at most 745 h)."""
    if value < 60:
        return f"{value} min"
    hours, rest = divmod(value, 60)
    return f"{hours} h {rest:02d}"
