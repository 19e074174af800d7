"""Issue 12 point 5: cutting the end of today's open (unsealed) segment is found by verify, through
the head anchor each append writes beside the records (appliance/journal/anchor.py)."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from appliance.clock import FixedClock
from appliance.journal import Journal
from appliance.journal.seal import seal_due
from appliance.journal.verify import verify
from tests.unit.journal.conftest import DAY0, fill

pytestmark = pytest.mark.unit
TODAY = DAY0 + timedelta(days=4, hours=3)  # days 0..2 sealed; today open


@pytest.fixture
def open_day(tmp_path: Path) -> Path:
    """Three sealed days, then today's sessions in an open segment."""
    root = tmp_path / "journal"
    fill(root)
    seal_due(root, now=DAY0 + timedelta(days=4))
    with Journal.open(root, clock=FixedClock(TODAY)) as journal:
        for i in range(1, 6):
            journal.append("session", {"event": "start", "method": "802.1x", "login": f"u{i}",
                                       "ip": f"10.30.0.{i}", "zone": "pedago"})
    assert verify(root).ok, verify(root).problems
    return root


def today_segment(root: Path) -> Path:
    return root / f"session/{TODAY.date()}.sqlite"


def test_deleting_the_last_session_record_of_today_is_found(open_day: Path) -> None:
    with sqlite3.connect(today_segment(open_day)) as conn:
        conn.execute("DELETE FROM records WHERE seq = (SELECT max(seq) FROM records)")
    report = verify(open_day)
    assert not report.ok
    assert f"segment session/{TODAY.date()}: record 5 removed at the end " \
        "(the head anchor names record 5)" in report.problems


def test_cutting_several_and_removing_the_anchor_is_found(open_day: Path) -> None:
    with sqlite3.connect(today_segment(open_day)) as conn:
        conn.execute("DELETE FROM records WHERE seq > 2")
    assert any("records 3..5 removed at the end" in p for p in verify(open_day).problems)
    with sqlite3.connect(today_segment(open_day)) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'anchor'")
    assert any("no head anchor (removed?)" in p for p in verify(open_day).problems)


def test_a_forged_or_stale_anchor_is_found(open_day: Path) -> None:
    with sqlite3.connect(today_segment(open_day)) as conn:
        value = conn.execute("SELECT value FROM meta WHERE key = 'anchor'").fetchone()[0]
        tag = value.split()[2]
        conn.execute("DELETE FROM records WHERE seq = 5")
        chain = conn.execute("SELECT chain FROM records WHERE seq = 4").fetchone()[0]
        # An anchor rewritten for the shorter chain, without the key: its HMAC gives it away.
        conn.execute("UPDATE meta SET value = ? WHERE key = 'anchor'",
                     (f"4 {bytes(chain).hex()} {tag}",))
    assert any("head anchor forged" in p for p in verify(open_day).problems)


def test_records_added_around_the_journal_are_found(open_day: Path) -> None:
    with sqlite3.connect(today_segment(open_day)) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'anchor'")
    with Journal.open(open_day, clock=FixedClock(TODAY)) as journal:  # a new anchor at 6
        journal.append("session", {"event": "end", "login": "u1", "ip": "10.30.0.1"})
    assert verify(open_day).ok
    with sqlite3.connect(today_segment(open_day)) as conn:
        row = conn.execute("SELECT * FROM records WHERE seq = 6").fetchone()
        conn.execute("INSERT INTO records VALUES (7, ?, ?, ?, ?, ?, ?, ?, ?)", row[1:])
    assert any("come after the head anchor" in p or "record 7" in p
               for p in verify(open_day).problems)


def test_the_seal_takes_over_from_the_anchor(open_day: Path) -> None:
    said = seal_due(open_day, now=TODAY + timedelta(days=1, hours=2))
    assert f"sealed session {TODAY.date()}: 5 records" in said
    assert verify(open_day).ok
    with sqlite3.connect(today_segment(open_day)) as conn:
        conn.execute("DELETE FROM records WHERE seq = 5")
    assert any("differs from its seal" in p for p in verify(open_day).problems)


def test_removing_the_key_does_not_silence_the_anchor(open_day: Path) -> None:
    (open_day / "seal.key").unlink()
    assert any("seal key is missing" in p for p in verify(open_day).problems)
