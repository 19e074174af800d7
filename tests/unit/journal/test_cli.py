"""``carine journal`` end to end: grant, query, export, verify's exit code, refused reading."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.cli import main

pytestmark = pytest.mark.unit


def test_commands(sealed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["journal", "--root", str(sealed)]
    assert main([*base, "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    assert main([*base, "query", "--operator", "eve", "--ip", "10.30.0.5",
                 "--at", "2026-03-10T09:00:00+01:00"]) == 1
    assert "does not hold the data-controller role" in capsys.readouterr().err
    assert main([*base, "grant", "principal", "--by", "root"]) == 0
    assert main([*base, "roles"]) == 0
    assert "principal\tdata-controller" in capsys.readouterr().out
    assert main([*base, "query", "--operator", "principal", "--ip", "10.30.0.5",
                 "--at", "2026-03-10T09:00:00+01:00"]) == 0
    said = capsys.readouterr().out
    assert '"login": "u5"' in said
    assert "\"at\": \"2026-03-10T08:00:00+01:00\"" in said  # the school's time, offset shown
    assert main([*base, "query", "--operator", "principal", "--host", "site2.fr",
                 "--day", "2026-03-10"]) == 0
    assert "answer(s)" in capsys.readouterr().out
    out = tmp_path / "req.zip"
    assert main([*base, "export", "--operator", "principal", "--from", "2026-03-10T00:00Z",
                 "--to", "2026-03-11T00:00Z", "--user", "u5", "--out", str(out)]) == 0
    assert "records, sha256" in capsys.readouterr().out and out.exists()
    # A time without offset is the school's (Paris: 09:00 is 08:00 UTC) ...
    assert main([*base, "query", "--operator", "principal", "--ip", "10.30.0.5",
                 "--at", "2026-03-10T09:00:00"]) == 0
    assert '"login": "u5"' in capsys.readouterr().out
    # ... unless that wall time happens twice: then its offset is asked for.
    assert main([*base, "query", "--operator", "principal", "--ip", "10.30.0.5",
                 "--at", "2026-10-25T02:30"]) == 1
    assert "happens twice in Europe/Paris" in capsys.readouterr().err
    with sqlite3.connect(sealed / "session/2026-03-10.sqlite") as conn:
        conn.execute("DELETE FROM records WHERE seq = 3")
    assert main([*base, "verify"]) == 1
    assert "FAIL segment session/2026-03-10: record 3 is missing" in capsys.readouterr().out
