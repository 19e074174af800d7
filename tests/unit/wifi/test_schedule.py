"""Weekly radio schedules in the school's local time: weekday and hour boundaries, periods that
join across midnight, and both daylight-saving changes of Europe/Paris (tables of instants)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from appliance.site.wifi import Schedule
from network.wifi.schedule import is_on, next_change, next_local

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
# Lessons on weekdays; Wednesday morning only; Friday evening runs into Saturday's small hours;
# Sunday 02:00-04:00 straddles both clock changes (last Sundays of March and October 2025).
PLAN = Schedule(mon=("08:30-11:30", "13:30-16:30"), tue=("08:30-16:30",), wed=("08:30-12:00",),
                fri=("08:30-24:00",), sat=("00:00-01:00",), sun=("02:00-04:00",))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


ON_TABLE = [
    # winter (UTC+1): Monday 24 March 2025
    ("2025-03-24T07:29:59", False),  # 08:29:59 local
    ("2025-03-24T07:30:00", True),   # 08:30 local: start included
    ("2025-03-24T10:29:00", True),
    ("2025-03-24T10:30:00", False),  # 11:30: end excluded
    ("2025-03-24T12:30:00", True),   # 13:30
    ("2025-03-24T15:30:00", False),  # 16:30
    # Wednesday afternoon off; Thursday has no period at all
    ("2025-03-26T10:59:00", True),
    ("2025-03-26T11:00:00", False),
    ("2025-03-27T09:00:00", False),
    # Friday 23:59 then Saturday 00:00-01:00 local, then off
    ("2025-03-28T22:59:00", True),
    ("2025-03-28T23:00:00", True),   # Saturday 00:00 local
    ("2025-03-28T23:59:00", True),
    ("2025-03-29T00:00:00", False),  # Saturday 01:00 local
    # spring forward, Sunday 30 March 2025: 02:00 CET does not exist, 01:00Z is 03:00 CEST
    ("2025-03-30T00:59:00", False),  # 01:59 CET
    ("2025-03-30T01:00:00", True),   # 03:00 CEST
    ("2025-03-30T01:59:00", True),   # 03:59 CEST
    ("2025-03-30T02:00:00", False),  # 04:00 CEST
    # summer (UTC+2): Monday 31 March 2025, 08:30 local is 06:30Z
    ("2025-03-31T06:29:00", False),
    ("2025-03-31T06:30:00", True),
    # fall back, Sunday 26 October 2025: 02:00-03:00 local happens twice
    ("2025-10-26T00:00:00", True),   # 02:00 CEST
    ("2025-10-26T00:59:00", True),   # 02:59 CEST
    ("2025-10-26T01:00:00", True),   # 02:00 CET, again
    ("2025-10-26T02:59:00", True),   # 03:59 CET
    ("2025-10-26T03:00:00", False),  # 04:00 CET
    # winter again: Monday 27 October, 08:30 local is 07:30Z
    ("2025-10-27T06:30:00", False),
    ("2025-10-27T07:30:00", True),
]


@pytest.mark.parametrize(("instant", "on"), ON_TABLE)
def test_schedule_reads_local_time(instant: str, on: bool) -> None:
    assert is_on(PLAN, utc(instant), PARIS) is on


NEXT_TABLE = [
    ("2025-03-24T06:00:00", "2025-03-24T07:30:00"),   # off -> the morning's start
    ("2025-03-24T08:00:00", "2025-03-24T10:30:00"),   # on -> the morning's end
    ("2025-03-24T10:30:00", "2025-03-24T12:30:00"),
    ("2025-03-24T15:30:00", "2025-03-25T07:30:00"),   # evening -> Tuesday morning
    ("2025-03-26T11:00:00", "2025-03-28T07:30:00"),   # Wednesday noon -> Friday (no Thursday)
    ("2025-03-28T12:00:00", "2025-03-29T00:00:00"),   # Friday runs into Saturday 01:00 local
    ("2025-03-29T12:00:00", "2025-03-30T01:00:00"),   # -> 02:00 local that does not exist
    ("2025-03-30T01:30:00", "2025-03-30T02:00:00"),   # -> 04:00 CEST
    ("2025-03-30T02:00:00", "2025-03-31T06:30:00"),   # -> Monday 08:30 CEST
    ("2025-10-25T12:00:00", "2025-10-26T00:00:00"),   # -> 02:00 CEST, the first one
    ("2025-10-26T00:30:00", "2025-10-26T03:00:00"),   # -> 04:00 CET: on through the repeat
]


@pytest.mark.parametrize(("instant", "change"), NEXT_TABLE)
def test_next_change(instant: str, change: str) -> None:
    assert next_change(PLAN, utc(instant), PARIS) == utc(change)


def test_a_schedule_without_periods_never_changes() -> None:
    empty = Schedule()
    assert not is_on(empty, utc("2025-03-24T10:00:00"), PARIS)
    assert next_change(empty, utc("2025-03-24T10:00:00"), PARIS) is None


def test_until_is_the_next_time_the_clock_reads_it() -> None:
    assert next_local("16:30", utc("2025-03-24T10:00:00"), PARIS) == utc("2025-03-24T15:30:00")
    assert next_local("08:00", utc("2025-03-24T10:00:00"), PARIS) == utc("2025-03-25T07:00:00")
    # across the spring change: 08:00 on Monday 31 March is 06:00Z
    assert next_local("08:00", utc("2025-03-30T10:00:00"), PARIS) == utc("2025-03-31T06:00:00")
