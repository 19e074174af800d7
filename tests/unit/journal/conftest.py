"""Fixtures of the journal tests: a journal folder with a few days of records, sealed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.journal import Journal
from appliance.journal.seal import seal_due

DAY0 = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)


def fill(root: Path, days: int = 3, per_day: int = 50) -> None:
    """Sessions and navigation over ``days`` days from DAY0; pupil u<i> on 10.30.0.<i>."""
    with Journal.open(root) as journal:
        for d in range(days):
            start = DAY0 + timedelta(days=d)
            journal.append_many("session", [
                {"event": "start", "method": "portal", "login": f"u{i}", "profile": "eleve",
                 "ip": f"10.30.0.{i}", "mac": f"02:00:00:00:00:{i:02x}", "zone": "pedago"}
                for i in range(1, 11)], at=[start] * 10)
            journal.append_many("navigation", [
                {"ip": f"10.30.0.{1 + i % 10}", "login": f"u{1 + i % 10}",
                 "host": f"www.site{i % 7}.fr", "decision": "allow"} for i in range(per_day)],
                at=[start + timedelta(minutes=i) for i in range(per_day)])
            journal.append_many("session", [
                {"event": "end", "login": f"u{i}", "ip": f"10.30.0.{i}"} for i in range(1, 11)],
                at=[start + timedelta(hours=8)] * 10)


@pytest.fixture
def sealed(tmp_path: Path) -> Path:
    root = tmp_path / "journal"
    fill(root)
    seal_due(root, now=DAY0 + timedelta(days=4))
    return root
