"""The clock and the site's time zone: code reads "now" through a ``Clock`` (tests pass a
``FixedClock``), stores times UTC aware, and shows people times in the site's zone.

``format_local`` is the one way a time is written for a person (pages, CLI output, sheets)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.errors import CarineError

DEFAULT_ZONE = "Europe/Paris"


class Clock(Protocol):
    """Where "now" comes from."""

    def now(self) -> datetime:
        """The current time, UTC aware."""
        ...

    def time(self) -> float:
        """The current time in seconds since the epoch."""
        ...


class SystemClock:
    """The machine's clock (NTP-synced on the appliance)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()


class FixedClock:
    """A clock that says what it is told; ``advance`` moves it on (tests)."""

    def __init__(self, at: datetime) -> None:
        self.at = utc(at)

    @classmethod
    def at_seconds(cls, seconds: float) -> FixedClock:
        return cls(from_timestamp(seconds))

    def now(self) -> datetime:
        return self.at

    def time(self) -> float:
        return self.at.timestamp()

    def advance(self, delta: timedelta | float) -> None:
        self.at += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)


class CallClock:
    """A clock read through a function giving aware UTC times (the console's ``now``)."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()

    def time(self) -> float:
        return self._now().timestamp()


SYSTEM = SystemClock()


def zone(name: str | ZoneInfo) -> ZoneInfo:
    """The IANA zone ``name`` (e.g. the site's ``school.timezone``), or a clear error."""
    if isinstance(name, ZoneInfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise CarineError(f"unknown time zone {name!r}",
                          "use an IANA name such as Europe/Paris or America/Cayenne") from exc


def local_now(tz: str | ZoneInfo, clock: Clock = SYSTEM) -> Callable[[], datetime]:
    """A function giving "now" in the zone ``tz`` (aware): for rules people write in wall
    time, such as a filtering profile's hours."""
    place = zone(tz)
    return lambda: clock.now().astimezone(place)


def utc(at: datetime) -> datetime:
    """``at`` as a UTC aware datetime; a naive one is refused (its zone is unknown)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"naive datetime {at!r}: give a time zone")
    return at.astimezone(UTC)


def from_timestamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def to_local(at: datetime | float, tz: str | ZoneInfo) -> datetime:
    """``at`` (aware datetime or epoch seconds) in the zone ``tz``."""
    moment = from_timestamp(at) if isinstance(at, (int, float)) else utc(at)
    return moment.astimezone(zone(tz))


def format_local(at: datetime | float, tz: str | ZoneInfo, *, seconds: bool = False,
                 day: bool = True, offset: bool | None = None) -> str:
    """A time for a person: ``2026-03-29 14:05 (UTC+02:00)`` in the zone ``tz``.

    The offset is shown when ``offset`` is True, or (None) when the wall time alone is
    ambiguous: on a day the zone changes its offset (the repeated hour of autumn)."""
    local = to_local(at, tz)
    text = local.strftime(("%Y-%m-%d " if day else "") + ("%H:%M:%S" if seconds else "%H:%M"))
    if offset is None:
        offset = changes_offset(local.date(), zone(tz))
    if offset:
        text += f" ({utc_offset(local)})"
    return text


def utc_offset(local: datetime) -> str:
    """``UTC+02:00`` for an aware datetime."""
    delta = local.utcoffset() or timedelta(0)
    sign = "-" if delta < timedelta(0) else "+"
    minutes = abs(int(delta.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def changes_offset(day: date, tz: ZoneInfo) -> bool:
    """Whether ``tz`` has two offsets on ``day`` (a summer-time change)."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)
    return start.utcoffset() != end.replace(tzinfo=tz).utcoffset()


def parse_local(text: str, tz: str | ZoneInfo) -> datetime:
    """A time a person typed (``2026-03-29T14:05``, ``...T14:05+02:00``) read in ``tz`` unless
    it names its offset; returns UTC aware. Refuses a wall time that does not exist (spring)
    or happens twice (autumn) without its offset."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CarineError(f"not a date and time: {text!r}",
                          "write it as 2026-03-29T14:05 (local time) or with an offset") from exc
    if parsed.tzinfo is not None:
        return parsed.astimezone(UTC)
    place = zone(tz)
    local = parsed.replace(tzinfo=place)
    # A wall time in the spring gap does not survive a round trip through UTC.
    if local.astimezone(UTC).astimezone(place).replace(tzinfo=None) != parsed:
        raise CarineError(f"{text} does not exist in {place.key} (the clocks jump that hour)",
                          "give a time outside the change, or its offset")
    if local.utcoffset() != local.replace(fold=1).utcoffset():
        raise CarineError(f"{text} happens twice in {place.key} (the clocks go back)",
                          f"add its offset: {text}{_iso_offset(local)} or "
                          f"{text}{_iso_offset(local.replace(fold=1))}")
    return local.astimezone(UTC)


def _iso_offset(local: datetime) -> str:
    return utc_offset(local).removeprefix("UTC")
