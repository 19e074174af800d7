"""The chain and the seals: any altered, deleted, inserted or reordered record, a missing
segment, a removed or forged seal is found and named by verify."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.clock import FixedClock
from appliance.journal import Journal, JournalError
from appliance.journal.ledger import LEDGER
from appliance.journal.seal import seal_due
from appliance.journal.verify import verify

pytestmark = pytest.mark.unit
SEG = "navigation/2026-03-10"


def _db(root: Path, name: str = SEG) -> sqlite3.Connection:
    return sqlite3.connect(root / f"{name}.sqlite", isolation_level=None)


def test_intact_journal_verifies(sealed: Path) -> None:
    report = verify(sealed)
    assert report.ok, report.problems
    assert report.records == 3 * (50 + 20)
    assert report.seals == 8  # 9..12 March, sessions and navigation (the 12th empty)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, 50), offset=st.integers(0, 400), bit=st.integers(0, 7))
def test_any_single_byte_change_is_found(sealed: Path, seq: int, offset: int, bit: int) -> None:
    with _db(sealed) as conn:
        (body,) = conn.execute("SELECT body FROM records WHERE seq = ?", (seq,)).fetchone()
        raw = bytearray(body.encode())
        raw[offset % len(raw)] ^= 1 << bit
        changed = raw.decode("utf-8", "replace")
        conn.execute("UPDATE records SET body = ? WHERE seq = ?", (changed, seq))
    try:
        problems = verify(sealed).problems
        assert any(f"{SEG}: record {seq} " in p for p in problems), problems
    finally:
        with _db(sealed) as conn:
            conn.execute("UPDATE records SET body = ? WHERE seq = ?", (body, seq))
    assert verify(sealed).ok


def test_changed_time_is_found(sealed: Path) -> None:
    with _db(sealed) as conn:
        conn.execute("UPDATE records SET at = at + 1 WHERE seq = 7")
    assert any("record 7 was altered" in p for p in verify(sealed).problems)


def test_deleted_record_is_found(sealed: Path) -> None:
    with _db(sealed) as conn:
        conn.execute("DELETE FROM records WHERE seq = 12")
    problems = verify(sealed).problems
    assert any("record 12 is missing" in p for p in problems), problems
    assert any("count 49 differs from its seal (50)" in p for p in problems)


def test_deleted_last_record_is_found_by_the_seal(sealed: Path) -> None:
    with _db(sealed) as conn:
        conn.execute("DELETE FROM records WHERE seq = 50")
    assert any("count 49 differs" in p for p in verify(sealed).problems)


def test_reordered_records_are_found(sealed: Path) -> None:
    with _db(sealed) as conn:
        a = conn.execute("SELECT body FROM records WHERE seq = 3").fetchone()[0]
        b = conn.execute("SELECT body FROM records WHERE seq = 4").fetchone()[0]
        conn.execute("UPDATE records SET body = ? WHERE seq = 3", (b,))
        conn.execute("UPDATE records SET body = ? WHERE seq = 4", (a,))
    problems = verify(sealed).problems
    assert any("record 3 was altered" in p for p in problems)
    assert any("record 4 was altered" in p for p in problems)


def test_inserted_record_is_found_even_with_a_recomputed_chain(sealed: Path) -> None:
    """An insider rewrites the whole chain after inserting: the seal still catches it."""
    from appliance.journal.records import chain_hash, genesis, leaf_hash

    with _db(sealed) as conn:
        rows = conn.execute("SELECT seq, at, body FROM records ORDER BY seq").fetchall()
        rows.insert(10, (0, rows[10][1], '{"host":"evil.example","ip":"10.30.0.99"}'))
        conn.execute("DELETE FROM records")
        head = genesis("navigation", datetime(2026, 3, 10).date())
        for seq, (_, at, body) in enumerate(rows, start=1):
            head = chain_hash(head, leaf_hash("navigation", seq, at, body))
            conn.execute("INSERT INTO records (seq, at, body, chain, ip, host) VALUES "
                         "(?, ?, ?, ?, NULL, NULL)", (seq, at, body, head))
    problems = verify(sealed).problems
    assert any("count 51 differs from its seal (50)" in p for p in problems), problems


def test_missing_segment_is_found(sealed: Path) -> None:
    (sealed / f"{SEG}.sqlite").unlink()
    assert any(f"segment {SEG}: missing (50 records sealed)" in p
               for p in verify(sealed).problems)


def test_removed_seal_line_is_found(sealed: Path) -> None:
    ledger = sealed / LEDGER
    lines = ledger.read_text().splitlines(keepends=True)
    ledger.write_text("".join(lines[:2] + lines[3:]))
    problems = verify(sealed).problems
    assert any("seal ledger line 3: does not follow" in p for p in problems), problems


def test_forged_seal_is_found(sealed: Path) -> None:
    ledger = sealed / LEDGER
    text = ledger.read_text().replace('"count":50', '"count":49', 1)
    ledger.write_text(text)
    assert any("broken seal (HMAC does not match)" in p for p in verify(sealed).problems)


def test_sealed_day_takes_no_more_records(sealed: Path) -> None:
    """A late record for a sealed day goes into today's segment with its own time."""
    late = datetime(2026, 3, 10, 9, tzinfo=UTC)
    clock = FixedClock(datetime(2026, 3, 20, 0, 10, tzinfo=UTC))
    with Journal.open(sealed, clock=clock) as journal:
        journal.append("navigation", {"ip": "10.30.0.1", "host": "late.fr"}, at=late)
    today = clock.now().date()
    assert (sealed / f"navigation/{today}.sqlite").exists()
    assert verify(sealed).ok


def test_empty_days_are_sealed_so_a_gap_shows(tmp_path: Path) -> None:
    root = tmp_path / "j"
    with Journal.open(root) as journal:
        journal.append("auth", {"outcome": "failure", "login": "x"},
                       at=datetime(2026, 3, 1, tzinfo=UTC))
    said = seal_due(root, now=datetime(2026, 3, 5, 2, tzinfo=UTC))
    assert said == [f"sealed auth 2026-03-0{d}: {1 if d == 1 else 0} records" for d in (1, 2, 3, 4)]


def test_credentials_and_odd_values_are_refused(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "j") as journal:
        for fields in ({"password": "x"}, {"new_password_hash": "x"}, {"secret": 1},
                       {"Login": "x"}, {"ip": ["a"]}, {"x": float("nan")}):
            with pytest.raises(JournalError):
                journal.append("auth", fields)  # type: ignore[arg-type]
        with pytest.raises(JournalError, match="unknown journal kind"):
            journal.append("nope", {})
        with pytest.raises(JournalError, match="no time zone"):
            journal.append("auth", {}, at=datetime(2026, 1, 1))


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    """Four processes append to the same segment at once: one unbroken chain of every record."""
    import multiprocessing

    root = tmp_path / "j"
    Journal.open(root).close()
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_writer, [(root, n) for n in range(4)])
    seal_due(root, now=WRITERS_NOW + timedelta(days=2))
    report = verify(root)
    assert report.ok, report.problems
    assert report.records == 4 * 20 * 25


WRITERS_NOW = datetime(2026, 3, 5, 23, 59, 59, tzinfo=UTC)


def _writer(job: tuple[Path, int]) -> None:
    root, n = job
    with Journal.open(root, clock=FixedClock(WRITERS_NOW)) as journal:
        for batch in range(20):
            journal.append_many("auth", [{"login": f"w{n}", "n": batch * 25 + i}
                                         for i in range(25)])
