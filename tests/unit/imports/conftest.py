"""Shared pieces of the import tests: the fixture folders, a fresh state folder, and a snapshot
of everything an import may change (to prove that a refused one changed nothing)."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from appliance.directory.schema import open_directory
from appliance.imports.model import Settings

AAF = Path(__file__).resolve().parents[2] / "fixtures" / "aaf"
CSV = Path(__file__).resolve().parents[2] / "fixtures" / "csv"
CLG = "0691234X"
NOW = 1_790_000_000.0
SETTINGS = Settings(uais=frozenset({CLG}), csv_uai=CLG)


def complet(uai: str = CLG) -> list[Path]:
    return sorted(AAF.glob(f"ENT_{uai}_Complet_*.xml"))


@pytest.fixture
def state(tmp_path: Path) -> Path:
    folder = tmp_path / "state"
    folder.mkdir()
    return folder


def db(state: Path) -> sqlite3.Connection:
    return open_directory(state / "state.sqlite")


def snapshot(state: Path) -> dict[str, object]:
    """The directory's rows and the journal's and pending files' bytes."""
    conn = db(state)
    rows = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
            for t in ("people", "accounts", "groups", "memberships", "structures",
                      "logins_used")}
    conn.close()
    files = {str(p.relative_to(state)): hashlib.sha256(p.read_bytes()).hexdigest()
             for p in sorted(state.rglob("initial-passwords.json"))}
    journal = {}
    for segment in sorted(state.glob("journal/*/*.sqlite")):  # records, not bytes: WAL moves
        seg = sqlite3.connect(segment)
        journal[str(segment.relative_to(state))] = seg.execute(
            "SELECT seq, at, body FROM records ORDER BY seq").fetchall()
        seg.close()
    return {"rows": {t: [tuple(r) for r in v] for t, v in rows.items()}, "files": files,
            "journal": journal}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id with tiny parameters: the tests check what is stored, not its cost."""
    from argon2 import PasswordHasher

    from appliance.directory import passwords

    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=1, memory_cost=8,
                                                            parallelism=1))
