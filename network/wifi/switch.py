"""Switching radios: a person's order or the scheduler's minute tick decides (``radio``), hostapd
applies (its control interface, locally or over SSH), the state store and the legal journal
record every change with who or what made it."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.errors import CarineError
from appliance.journal import Journal
from appliance.site import Site
from appliance.site.wifi import AccessPoint, Schedule
from network.wifi import radio, store
from network.wifi.ctrl import Control, LocalControl, connected, expect_ok, radio_enabled
from network.wifi.remote import RemoteControl, client_key
from network.wifi.schedule import next_local

log = logging.getLogger("carine.wifi")
SCHEDULER = "carine-scheduler"
Controls = Callable[[AccessPoint], Control | None]


@dataclass(frozen=True)
class Outcome:
    """One change: the state recorded, and whether the access point took it."""

    state: radio.RadioState
    room: str
    applied: bool
    error: str | None


def control_factory(state_dir: Path, local: dict[str, tuple[Path, str]]) -> Controls:
    """How to reach each access point: a local control socket when given (hostapd on this
    machine or in the lab), SSH with the pinned key for other linux APs, nothing for vendor APs."""
    cache: dict[str, Control | None] = {}

    def get(ap: AccessPoint) -> Control | None:
        if ap.name not in cache:
            if ap.name in local:
                ctrl_dir, interface = local[ap.name]
                cache[ap.name] = LocalControl(ctrl_dir, interface)
            elif ap.kind == "linux" and ap.ssh_host_key is not None:
                folder = state_dir / "wifi"
                cache[ap.name] = RemoteControl(
                    str(ap.address), ap.ssh_host_key, ap.ssh_user, client_key(folder / "ssh"),
                    folder / "known_hosts", ap.interface)
            else:
                cache[ap.name] = None
        return cache[ap.name]

    return get


class Radios:
    """The radios of a site, their recorded states, and the means to switch them."""

    def __init__(self, site: Site, conn: sqlite3.Connection, journal: Journal | None,
                 controls: Controls, clock: Callable[[], datetime] | None = None) -> None:
        self.site, self.conn, self.journal, self.controls = site, store.open_store(conn), \
            journal, controls
        self.tz = ZoneInfo(site.school.timezone)
        self.clock = clock or (lambda: datetime.now(UTC))

    def select(self, names: list[str], room: str | None) -> list[AccessPoint]:
        aps = self.site.wifi.access_points
        chosen = [ap for ap in aps if ap.name in names or (room is not None and ap.room == room)]
        unknown = [n for n in names if n not in {ap.name for ap in aps}]
        if unknown or not chosen:
            what = ", ".join(unknown) if unknown else f"room {room!r}"
            raise CarineError(f"no access point for {what}",
                              f"access points: {', '.join(f'{a.name} ({a.room})' for a in aps)}")
        return chosen

    def order(self, aps: list[AccessPoint], on: bool, until: str | None,
              by: str) -> list[Outcome]:
        """A person switches ``aps`` on or off (until ``until``, HH:MM local, if given)."""
        if until is not None and not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", until):
            raise CarineError(f"--until {until!r} is not a time of day", "HH:MM, e.g. 16:30")
        now = self.clock()
        end = next_local(until, now, self.tz) if until else None
        return [self._change(ap, radio.manual(ap, self._plan(ap), self.tz, now, on, end), by, now)
                for ap in aps]

    def tick(self) -> list[Outcome]:
        """One scheduler round: watch activity, apply schedules and inactivity, re-apply."""
        outcomes = []
        for ap in self.site.wifi.access_points:
            now = self.clock()
            current = store.load(self.conn, ap.name)
            control = self.controls(ap)
            if current is not None and current.on and control is not None:
                current = self._watch(ap, control, current, now)
            target = radio.decide(ap, self._plan(ap), self.tz, now, current)
            if target is not None:
                outcomes.append(self._change(ap, target, SCHEDULER, now))
            elif current is not None and control is not None:
                self._reapply(ap, control, current)
        return outcomes

    def _plan(self, ap: AccessPoint) -> Schedule | None:
        return self.site.wifi.schedules[ap.schedule] if ap.schedule is not None else None

    def _watch(self, ap: AccessPoint, control: Control, current: radio.RadioState,
               now: datetime) -> radio.RadioState:
        try:
            count = connected(control)
        except CarineError as exc:
            log.warning("%s: cannot count its devices: %s", ap.name, exc.message)
            return current  # unknown activity is not inactivity: never switch off blind
        if count:
            store.touch(self.conn, ap.name, now)
            return radio.seen_activity(current, now)
        return current

    def _reapply(self, ap: AccessPoint, control: Control, current: radio.RadioState) -> None:
        """An AP that rebooted or missed an order gets the recorded state again."""
        try:
            if radio_enabled(control) != current.on:
                expect_ok(control, "ENABLE" if current.on else "DISABLE")
                log.warning("%s: radio was not %s as recorded: re-applied", ap.name,
                            "on" if current.on else "off")
        except CarineError as exc:
            log.warning("%s: %s", ap.name, exc.message)

    def _change(self, ap: AccessPoint, target: radio.Target, by: str,
                now: datetime) -> Outcome:
        previous = store.load(self.conn, ap.name)
        state = radio.RadioState(ap.name, target.on, target.reason, by, now, target.until,
                                 previous.last_activity if previous else None)
        applied, error = self._apply(ap, target.on)
        store.save(self.conn, state, ap.room, applied, error)
        if self.journal is not None:
            self.journal.append("admin", {
                "actor": by, "action": f"wifi.radio.{'on' if target.on else 'off'}",
                "target": ap.name, "room": ap.room, "reason": target.reason,
                "until": state.until.isoformat() if state.until else None,
                "applied": int(applied), "error": error}, at=now)
        log.info("%s (%s): radio %s (%s, by %s)%s", ap.name, ap.room,
                 "on" if target.on else "off", target.reason, by,
                 "" if applied else f" — not applied: {error}")
        return Outcome(state, ap.room, applied, error)

    def _apply(self, ap: AccessPoint, on: bool) -> tuple[bool, str | None]:
        control = self.controls(ap)
        if control is None:
            return False, "vendor access point: switch it from its own controller"
        try:
            if radio_enabled(control) != on:
                expect_ok(control, "ENABLE" if on else "DISABLE")
        except CarineError as exc:
            return False, exc.message
        return True, None
