"""Monthly availability from synthetic minute samples: gaps are unknown (not down), maintenance
windows leave minutes out (clipped at the month's edges, overlaps once), the objective is met or
missed to the minute, and the month follows the schools' clock (DST months are an hour off)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from monitoring.availability import STEP, Key, Month, Window, maintenance_slots, month_figures
from monitoring.maintenance import MaintenanceInvalid, parse_windows
from monitoring.report import as_json, build_report, render_text

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
MAY = Month.parse("2025-05")
ENT: Key = ("0691234X", "ent", "https://ent.example.fr/", "proxy")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def series(month: Month, value: Callable[[float], float | None]) -> list[tuple[float, float]]:
    """One sample per minute of the month; value None leaves the minute without a sample."""
    out = []
    for i in range(month.slots):
        t = month.start + i * STEP
        v = value(t)
        if v is not None:
            out.append((t, v))
    return out


def down_between(start: str, end: str) -> Callable[[float], float]:
    return lambda t: 0.0 if at(start) <= t < at(end) else 1.0


def test_month_follows_the_schools_clock() -> None:
    assert MAY.slots == 31 * 1440
    assert MAY.start == at("2025-05-01 00:00") and MAY.end == at("2025-06-01 00:00")
    assert Month.parse("2025-03").slots == 31 * 1440 - 60  # clocks go forward on the 30th
    assert Month.parse("2025-10").slots == 31 * 1440 + 60
    assert Month.parse("2024-02").slots == 29 * 1440
    assert Month.parse("2025-12").end == at("2026-01-01 00:00")
    assert Month.parse("2025-05", "Indian/Reunion").start == datetime(
        2025, 5, 1, tzinfo=ZoneInfo("Indian/Reunion")).timestamp()


@pytest.mark.parametrize("text", ["2025-13", "2025-5", "25-05", "2025-05-01", ""])
def test_a_bad_month_is_refused(text: str) -> None:
    with pytest.raises(Exception, match="is not a month"):
        Month.parse(text)


def test_objective_met_and_missed_to_the_minute() -> None:
    allowed = math.floor(MAY.slots * 0.005)  # 99.5 % of 44,640 minutes: 223 minutes down
    ok = {ENT: series(MAY, down_between("2025-05-06 10:00", "2025-05-06 13:43"))}
    [met] = month_figures(MAY, ok, [])
    assert (met.down, met.up, met.unknown, met.maintenance) == (223, MAY.slots - 223, 0, 0)
    assert met.allowed_down(99.5) == allowed == 223
    assert met.met(99.5) is True
    late = {ENT: series(MAY, down_between("2025-05-06 10:00", "2025-05-06 13:44"))}
    [missed] = month_figures(MAY, late, [])
    assert missed.down == 224 and missed.met(99.5) is False
    assert missed.availability == pytest.approx(100 * (MAY.slots - 224) / MAY.slots)


def test_gaps_are_unknown_not_down() -> None:
    gap = (at("2025-05-10 00:00"), at("2025-05-12 00:00"))  # appliance off for two days

    def value(t: float) -> float | None:
        if gap[0] <= t < gap[1]:
            return None
        return 0.0 if at("2025-05-20 08:00") <= t < at("2025-05-20 09:00") else 1.0

    [f] = month_figures(MAY, {ENT: series(MAY, value)}, [])
    assert f.unknown == 2 * 1440
    assert f.down == 60
    assert f.measured == MAY.slots - 2 * 1440
    assert f.availability == pytest.approx(100 * (f.measured - 60) / f.measured)


def test_maintenance_is_left_out_and_clipped_at_the_month_edges() -> None:
    windows = [
        Window(at("2025-04-30 22:00"), at("2025-05-01 02:00"), "avant le mois"),  # 120 min in
        Window(at("2025-05-31 23:30"), at("2025-06-01 03:00"), "après"),           # 30 min in
        Window(at("2025-05-15 20:00"), at("2025-05-15 22:00"), "ENT"),
        Window(at("2025-05-15 21:00"), at("2025-05-15 23:00"), "recouvre"),        # +60 min
        Window(at("2025-06-10 20:00"), at("2025-06-10 22:00"), "autre mois"),
    ]
    assert len(maintenance_slots(MAY, windows)) == 120 + 30 + 180

    def value(t: float) -> float:  # down only inside the maintenance, and 10 min outside
        inside = at("2025-05-15 20:00") <= t < at("2025-05-15 23:00") or t < at("2025-05-01 02:00")
        return 0.0 if inside or at("2025-05-20 08:00") <= t < at("2025-05-20 08:10") else 1.0

    [f] = month_figures(MAY, {ENT: series(MAY, value)}, windows)
    assert (f.maintenance, f.down, f.unknown) == (330, 10, 0)
    assert f.up == MAY.slots - 330 - 10


def test_samples_outside_the_month_nan_and_doubles() -> None:
    samples = {ENT: [
        (MAY.start - 60, 0.0), (MAY.end, 0.0),            # outside: ignored
        (MAY.start, 1.0), (MAY.start + 30, 0.0),          # two in one minute: the worst
        (MAY.start + 60, float("nan")),                   # no value: unknown
        (MAY.start + 120, 1.0),
    ]}
    [f] = month_figures(MAY, samples, [])
    assert (f.up, f.down, f.unknown) == (1, 1, MAY.slots - 2)


def test_no_data_has_no_verdict() -> None:
    [f] = month_figures(MAY, {ENT: []}, [])
    assert f.availability is None and f.met(99.5) is None and f.unknown == MAY.slots


def test_report_table_and_json() -> None:
    direct = (*ENT[:3], "direct")
    samples = {ENT: series(MAY, down_between("2025-05-06 10:00", "2025-05-06 14:00")),
               direct: series(MAY, lambda t: 1.0)}
    windows = [Window(at("2025-05-10 22:00"), at("2025-05-11 04:00"), "mise à jour de l'ENT")]
    report = build_report(MAY, samples, [*windows, Window(at("2025-07-01"), at("2025-07-02"))],
                          99.5)
    text = render_text(report)
    assert "Availability 2025-05 (Europe/Paris, 2025-05-01 00:00 → 2025-06-01 00:00), " \
           "objective 99.50 %" in text
    assert "maintenance: 2025-05-10 22:00 → 2025-05-11 04:00  mise à jour de l'ENT" in text
    lines = [line.split() for line in text.splitlines()]
    assert ["0691234X", "ent", "proxy", "https://ent.example.fr/", "99.458", "%", "4", "h",
            "00", "0", "min", "6", "h", "00", "MISSED"] in lines
    assert "2 target(s) and path(s), 1 below the objective" in text
    doc = json.loads(json.dumps(as_json(report)))
    assert doc["maintenance"] == [{"start": "2025-05-10T22:00:00+02:00",
                                   "end": "2025-05-11T04:00:00+02:00",
                                   "comment": "mise à jour de l'ENT"}]
    [d, p] = doc["targets"]
    assert (d["path"], d["objective_met"], d["down_minutes"]) == ("direct", True, 0)
    assert (p["objective_met"], p["down_minutes"], p["maintenance_minutes"]) == (False, 240, 360)
    assert p["allowed_down_minutes"] == math.floor((MAY.slots - 360) * 0.005)


def test_maintenance_file_forms() -> None:
    windows = parse_windows(
        "- {start: 2025-05-10 22:00, end: '2025-05-11 04:00', comment: ENT}\n"
        "- {start: 2025-05-12T20:00:00Z, end: 2025-05-12T21:00:00Z}\n"
        "- {start: 2025-04-12, end: 2025-04-28, comment: vacances}\n", "m.yml", "Europe/Paris")
    assert [(w.start, w.end, w.comment) for w in windows] == [
        (at("2025-05-10 22:00"), at("2025-05-11 04:00"), "ENT"),
        (at("2025-05-12 22:00"), at("2025-05-12 23:00"), ""),  # 20:00 UTC is 22:00 in Paris
        (at("2025-04-12 00:00"), at("2025-04-28 00:00"), "vacances"),
    ]
    assert parse_windows("", "m.yml", "Europe/Paris") == []


def test_maintenance_file_problems_are_all_listed() -> None:
    with pytest.raises(MaintenanceInvalid) as caught:
        parse_windows("- {start: 2025-05-11 04:00, end: 2025-05-10 22:00}\n"
                      "- {end: 2025-05-10}\n"
                      "- {start: demain, end: 2025-05-10, why: x}\n"
                      "- just text\n", "m.yml", "Europe/Paris")
    message = caught.value.message
    assert caught.value.exit_code == 2
    for part in ("m.yml: 5 problem(s)", "[0]: end is not after start", "[1].start is missing",
                 "[2]: unknown key 'why'", "[2].start: 'demain' is not a date and time",
                 "[3]: a mapping with start, end and comment is expected"):
        assert part in message, part
    with pytest.raises(MaintenanceInvalid, match="a list of windows is expected"):
        parse_windows("start: 2025-05-10\n", "m.yml", "Europe/Paris")
