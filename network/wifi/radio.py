"""What an access point's radio should be now: the pure decision between a manual order, the
weekly schedule and inactivity (D-WIF-3). No I/O here; ``switch`` applies and records.

A manual order holds until its --until time, or else until the schedule's next change (for
ever without a schedule). Inactivity switches a radio off until the schedule's next change (or
until someone switches it on again, without a schedule)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from appliance.site.wifi import AccessPoint, Schedule
from network.wifi import schedule as weekly

MANUAL, SCHEDULE, DEFAULT, INACTIVITY = "manual", "schedule", "default", "inactivity"


@dataclass(frozen=True)
class RadioState:
    """An access point's radio as recorded: on or off, why, by whom, since and until when."""

    ap: str
    on: bool
    reason: str
    by: str
    since: datetime
    until: datetime | None = None
    last_activity: datetime | None = None

    def idle_since(self) -> datetime:
        """Since when nobody was connected (as far as we have seen)."""
        if self.last_activity is None or self.last_activity < self.since:
            return self.since
        return self.last_activity


@dataclass(frozen=True)
class Target:
    """A decided radio state, if it differs from the recorded one."""

    on: bool
    reason: str
    until: datetime | None


def manual(ap: AccessPoint, plan: Schedule | None, tz: ZoneInfo, now: datetime, on: bool,
           until: datetime | None) -> Target:
    """A person's order: it holds until ``until``, else until the schedule's next change."""
    if until is None and plan is not None:
        until = weekly.next_change(plan, now, tz)
    return Target(on, MANUAL, until)


def decide(ap: AccessPoint, plan: Schedule | None, tz: ZoneInfo, now: datetime,
           current: RadioState | None) -> Target | None:
    """The radio state ``ap`` should take at ``now``; None when ``current`` is right."""
    target = _wanted(ap, plan, tz, now, current)
    if current is not None and (current.on, current.reason, current.until) == \
            (target.on, target.reason, target.until):
        return None
    return target


def _wanted(ap: AccessPoint, plan: Schedule | None, tz: ZoneInfo, now: datetime,
            current: RadioState | None) -> Target:
    boundary = weekly.next_change(plan, now, tz) if plan is not None else None
    if current is not None and current.reason in (MANUAL, INACTIVITY) and (
            current.until is None or now < current.until):
        if current.on and _idle(ap, current, now):
            return Target(False, INACTIVITY, boundary)
        return Target(current.on, current.reason, current.until)
    on = weekly.is_on(plan, now, tz) if plan is not None else True
    reason = SCHEDULE if plan is not None else DEFAULT
    if on and current is not None and current.on and _idle(ap, current, now):
        return Target(False, INACTIVITY, boundary)
    return Target(on, reason, None)


def _idle(ap: AccessPoint, current: RadioState, now: datetime) -> bool:
    limit = ap.inactivity_off_minutes
    return limit is not None and now - current.idle_since() >= timedelta(minutes=limit)


def seen_activity(current: RadioState, now: datetime) -> RadioState:
    """``current`` with a device seen connected at ``now``."""
    return replace(current, last_activity=now)
