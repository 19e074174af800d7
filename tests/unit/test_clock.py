"""The clock and the site's time zone (appliance.clock): what a person reads is local, with the
offset where the wall time alone is ambiguous; typed local times become UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appliance.clock import FixedClock, format_local, local_now, parse_local, to_local
from appliance.errors import CarineError

pytestmark = pytest.mark.unit


def test_a_utc_time_is_shown_in_the_schools_zone() -> None:
    winter = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    assert format_local(winter, "Europe/Paris") == "2026-11-23 10:05"
    assert format_local(winter, "America/Cayenne") == "2026-11-23 06:05"  # Guyane
    assert format_local(winter, "Indian/Reunion", offset=True) == "2026-11-23 13:05 (UTC+04:00)"
    assert format_local(winter.timestamp(), "Europe/Paris", day=False) == "10:05"


def test_the_offset_is_shown_on_the_day_the_clocks_go_back() -> None:
    # 2026-10-25: 02:30 happens twice in Paris; the offset tells them apart.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = first + timedelta(hours=1)
    assert format_local(first, "Europe/Paris") == "2026-10-25 02:30 (UTC+02:00)"
    assert format_local(second, "Europe/Paris") == "2026-10-25 02:30 (UTC+01:00)"
    assert format_local(datetime(2026, 10, 26, 9, tzinfo=UTC), "Europe/Paris") \
        == "2026-10-26 10:00"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_local(datetime(2026, 1, 1, 12), "Europe/Paris")
    with pytest.raises(ValueError, match="naive"):
        FixedClock(datetime(2026, 1, 1, 12))


def test_typed_local_times_become_utc() -> None:
    assert parse_local("2026-11-23T10:05", "Europe/Paris") == datetime(2026, 11, 23, 9, 5,
                                                                       tzinfo=UTC)
    assert parse_local("2026-11-23T10:05+00:00", "Europe/Paris").hour == 10
    with pytest.raises(CarineError, match="does not exist"):
        parse_local("2026-03-29T02:30", "Europe/Paris")  # the hour skipped in spring
    with pytest.raises(CarineError, match="unknown time zone"):
        parse_local("2026-11-23T10:05", "Europe/Lutece")


def test_clocks() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 5, tzinfo=UTC))
    clock.advance(60)
    assert clock.now() == datetime(2026, 11, 23, 9, 6, tzinfo=UTC)
    assert clock.time() == clock.now().timestamp()
    assert local_now("Europe/Paris", clock)().hour == 10
