"""Weekly radio schedules read in the school's local time (Europe/Paris, daylight saving
included): is the radio meant to be on at an instant, and when does that next change?

Pure functions of a ``Schedule`` and aware datetimes; tested with tables of instants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.site.wifi import Schedule

DAY = 24 * 60


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def periods(schedule: Schedule, weekday: int) -> list[tuple[int, int]]:
    """The day's on-periods in minutes since local midnight, [start, end)."""
    out = []
    for interval in schedule.days()[weekday]:
        start, end = interval.split("-")
        out.append((_minutes(start), _minutes(end)))
    return sorted(out)


def is_on(schedule: Schedule, at: datetime, tz: ZoneInfo) -> bool:
    """Whether ``schedule`` wants the radio on at instant ``at`` (aware)."""
    local = at.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in periods(schedule, local.weekday()))


def _local_instant(day: date, minute: int, tz: ZoneInfo) -> datetime:
    # 24:00 is the next midnight. A wall time that does not exist (the spring gap) reads with
    # the offset before the change, i.e. it lands one hour later on the clock: 02:30 -> 03:30.
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    moment = naive.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def next_change(schedule: Schedule, at: datetime, tz: ZoneInfo) -> datetime | None:
    """The first instant after ``at`` when ``is_on`` changes (UTC), or None if it never does."""
    now_on = is_on(schedule, at, tz)
    start_day = at.astimezone(tz).date()
    candidates: list[datetime] = []
    for offset in range(0, 9):
        day = start_day + timedelta(days=offset)
        for start, end in periods(schedule, day.weekday()):
            candidates += [_local_instant(day, start, tz), _local_instant(day, end, tz)]
    for moment in sorted(candidates):
        if moment > at and is_on(schedule, moment, tz) != now_on:
            return moment
    return None


def next_local(hhmm: str, at: datetime, tz: ZoneInfo) -> datetime:
    """The next instant (UTC) after ``at`` when the local clock reads ``hhmm`` (--until 16:30)."""
    local = at.astimezone(tz)
    minute = _minutes(hhmm)
    moment = _local_instant(local.date(), minute, tz)
    if moment <= at:
        moment = _local_instant(local.date() + timedelta(days=1), minute, tz)
    return moment
