"""Radio decisions (manual orders, schedules, inactivity) and their record: the state store's
history and the legal journal name who or what made every change. hostapd is a fake here (a
pure unit test); the contract and lab tests drive the real one."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.journal import Journal
from appliance.journal.segment import connect as segment_connect
from appliance.journal.segment import iter_records
from appliance.site import load_site
from appliance.state import connect
from network.wifi import store
from network.wifi.switch import SCHEDULER, Radios
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.unit


class FakeHostapd:
    """hostapd's control interface as far as the radios use it."""

    def __init__(self) -> None:
        self.enabled = True
        self.authorized = 0
        self.sent: list[str] = []

    def request(self, command: str) -> str:
        self.sent.append(command)
        if command in ("ENABLE", "DISABLE"):
            self.enabled = command == "ENABLE"
            return "OK\n"
        if command == "STATUS":
            return f"state={'ENABLED' if self.enabled else 'DISABLED'}\n"
        if command == "STA-FIRST" and self.authorized:
            return "02:00:00:00:00:01\nflags=[AUTH][ASSOC][AUTHORIZED]\n"
        return ""


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def setup(tmp_path: Path):
    site = load_site(EXAMPLES / "site.yaml")  # ap-cdi: schedule cours, 30 min inactivity
    aps = {"ap-cdi": FakeHostapd()}
    clock = Clock(datetime(2025, 3, 24, 5, 0, tzinfo=UTC))  # Monday 06:00 Paris
    radios = Radios(site, connect(tmp_path / "state.sqlite"), Journal.open(tmp_path / "journal"),
                    lambda ap: aps.get(ap.name), clock)
    return radios, aps["ap-cdi"], clock, tmp_path / "journal"


def journal_rows(root: Path) -> list[dict[str, object]]:
    rows = []
    for path in sorted((root / "admin").glob("*.sqlite")):
        conn = segment_connect(path, "admin", datetime.fromisoformat(path.stem).date(),
                               create=False)
        rows += [json.loads(record.body) for record, _, _ in iter_records(conn, "admin")]
    return rows


def at(clock: Clock, hhmm: str, day: int = 24) -> None:
    hours, minutes = map(int, hhmm.split(":"))
    clock.now = datetime(2025, 3, day, hours, minutes, tzinfo=UTC)


def test_schedule_switches_and_records(setup) -> None:
    radios, ap, clock, journal = setup
    first = [o for o in radios.tick() if o.state.ap == "ap-cdi"]
    assert [(o.state.on, o.state.reason, o.applied) for o in first] == \
        [(False, "schedule", True)]
    assert not ap.enabled
    assert not [o for o in radios.tick() if o.state.ap == "ap-cdi"]  # nothing new to do
    at(clock, "06:30")  # 07:30 Paris: the schedule's start
    ap.authorized = 1
    changed = [o for o in radios.tick() if o.state.ap == "ap-cdi"]
    assert [(o.state.on, o.state.by) for o in changed] == [(True, SCHEDULER)]
    assert ap.enabled
    history = store.history(radios.conn, "ap-cdi")
    assert [(r["radio_on"], r["reason"], r["by"], r["applied"]) for r in history] == \
        [(1, "schedule", SCHEDULER, 1), (0, "schedule", SCHEDULER, 1)]
    records = [r for r in journal_rows(journal) if r["target"] == "ap-cdi"]
    assert [(r["action"], r["actor"], r["room"]) for r in records] == \
        [("wifi.radio.off", SCHEDULER, "CDI"), ("wifi.radio.on", SCHEDULER, "CDI")]


def test_vendor_ap_is_recorded_but_not_applied(setup) -> None:
    radios, _, _, _ = setup
    outcome = next(o for o in radios.tick() if o.state.ap == "ap-b104")
    assert not outcome.applied and "vendor" in (outcome.error or "")
    assert store.history(radios.conn, "ap-b104")[0]["applied"] == 0


def test_inactivity_switches_off_until_the_next_change(setup) -> None:
    radios, ap, clock, journal = setup
    at(clock, "07:00")  # 08:00 Paris, on by schedule
    radios.tick()
    assert ap.enabled
    ap.authorized = 1
    at(clock, "07:10")
    radios.tick()  # a device seen at 07:10
    ap.authorized = 0
    at(clock, "07:39")
    assert not [o for o in radios.tick() if o.state.ap == "ap-cdi"]  # 29 min idle: still on
    at(clock, "07:40")
    off = [o for o in radios.tick() if o.state.ap == "ap-cdi"]
    assert [(o.state.on, o.state.reason) for o in off] == [(False, "inactivity")]
    assert off[0].state.until == datetime(2025, 3, 24, 17, 30, tzinfo=UTC)  # 18:30 Paris
    assert not ap.enabled
    at(clock, "12:00")
    assert not [o for o in radios.tick() if o.state.ap == "ap-cdi"]  # stays off
    assert journal_rows(journal)[-1]["reason"] == "inactivity"


def test_manual_order_holds_until_its_time_then_the_schedule_resumes(setup) -> None:
    radios, ap, clock, journal = setup
    at(clock, "19:00")  # 20:00 Paris: off by schedule
    radios.tick()
    outcomes = radios.order(radios.select([], "CDI"), True, "21:30", "mme.martin")
    assert [(o.state.on, o.state.reason, o.state.by) for o in outcomes] == \
        [(True, "manual", "mme.martin")]
    assert outcomes[0].state.until == datetime(2025, 3, 24, 20, 30, tzinfo=UTC)
    assert ap.enabled
    ap.authorized = 1
    at(clock, "20:29")
    assert not [o for o in radios.tick() if o.state.ap == "ap-cdi"]
    at(clock, "20:30")
    back = [o for o in radios.tick() if o.state.ap == "ap-cdi"]
    assert [(o.state.on, o.state.reason) for o in back] == [(False, "schedule")]
    actors = [(r["actor"], r["action"]) for r in journal_rows(journal) if r["target"] == "ap-cdi"]
    assert actors[-2:] == [("mme.martin", "wifi.radio.on"), (SCHEDULER, "wifi.radio.off")]


def test_manual_order_without_until_holds_to_the_next_schedule_change(setup) -> None:
    radios, ap, clock, _ = setup
    at(clock, "08:00")  # on by schedule
    radios.tick()
    [outcome] = radios.order(radios.select(["ap-cdi"], None), False, None, "m.dupont")
    assert outcome.state.until == datetime(2025, 3, 24, 17, 30, tzinfo=UTC)
    assert not ap.enabled


def test_a_radio_found_in_the_wrong_state_is_put_back(setup) -> None:
    radios, ap, _, _ = setup
    radios.tick()  # off by schedule
    ap.enabled = True  # the access point rebooted with its radio on
    radios.tick()
    assert not ap.enabled


def test_unreachable_ap_is_recorded_as_not_applied(setup) -> None:
    radios, ap, _, _ = setup

    def broken(command: str) -> str:
        from appliance.errors import CarineError
        raise CarineError("hostapd does not answer")

    ap.request = broken
    outcome = next(o for o in radios.tick() if o.state.ap == "ap-cdi")
    assert not outcome.applied and outcome.error == "hostapd does not answer"


def test_bad_selections_and_times_are_refused(setup) -> None:
    from appliance.errors import CarineError

    radios, _, _, _ = setup
    with pytest.raises(CarineError, match="no access point"):
        radios.select(["ap-nowhere"], None)
    with pytest.raises(CarineError, match="no access point"):
        radios.select([], "Gymnase")
    with pytest.raises(CarineError, match="not a time of day"):
        radios.order(radios.select(["ap-cdi"], None), True, "25:00", "x")


def test_until_and_status_agree_in_local_time(setup) -> None:
    """``--until 16:30`` is the school's 16:30; ``status`` prints it so, with the offset (it
    printed 15:30Z: UTC, while --until read local time)."""
    from network.wifi.cli import outcome_lines, status_lines

    radios = setup[0]
    [outcome] = radios.order(radios.select(["ap-cdi"], None), False, "16:30", "prof.x")
    assert outcome.state.until == datetime(2025, 3, 24, 15, 30, tzinfo=UTC)  # stored UTC
    [said] = outcome_lines([outcome], radios.tz)
    assert "until 2025-03-24 16:30 (UTC+01:00)" in said
    lines = status_lines(radios, history=1)
    line, event = next(x for x in lines if x.startswith("ap-cdi")), lines[-1]
    assert "until 2025-03-24 16:30 (UTC+01:00)" in line
    assert "since 2025-03-24 06:00 (UTC+01:00)" in line
    assert event.startswith("  2025-03-24 06:00 (UTC+01:00) ap-cdi off")
