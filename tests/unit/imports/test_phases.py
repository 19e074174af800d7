"""The three phases against a real state store: a dry run changes nothing, apply then re-apply
is a no-op, absence from a full file deactivates, refused files and failures change nothing."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from appliance.imports import apply as apply_module
from appliance.imports import heartbeat, pending
from appliance.imports.codes import ImportRefused
from appliance.imports.run import run_import
from appliance.journal import Journal
from tests.unit.imports import aafbuild as b
from tests.unit.imports.conftest import AAF, CLG, NOW, SETTINGS, complet, db, snapshot

pytestmark = pytest.mark.unit


def logins_by_key(state: Path) -> dict[str, tuple[str, str, str]]:
    conn = db(state)
    rows = conn.execute("SELECT p.join_key, p.local_id, a.login, p.state, a.state FROM people "
                        "p JOIN accounts a ON a.person_id = p.id").fetchall()
    return {r[0] or r[1]: (r[2], r[3], r[4]) for r in rows}


def directory_records(state: Path) -> list[dict[str, object]]:
    folder = state / "journal" / "directory"
    out: list[dict[str, object]] = []
    for segment in sorted(folder.glob("*.sqlite")):
        import sqlite3

        conn = sqlite3.connect(segment)
        out += [json.loads(r[0]) for r in conn.execute("SELECT body FROM records ORDER BY seq")]
        conn.close()
    return out


def test_dry_run_changes_nothing(state: Path) -> None:
    before = snapshot(state)
    outcome = run_import(complet(), state, SETTINGS, dry_run=True, now=NOW)
    assert outcome.plan.count()["create"] == 18 and not outcome.applied
    assert snapshot(state) == before
    assert not heartbeat.path_in(state).exists()
    assert not pending.path_in(state).exists()


def test_apply_then_reapply_is_a_noop_and_logins_are_stable(state: Path) -> None:
    first = run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    assert first.applied and first.plan.count()["create"] == 18
    logins = logins_by_key(state)
    assert logins["E1001"][0] == "lea.martin" and logins["E1012"][0] == "lea.martin2"
    assert logins["E1008"][0] == "oelian.durand"
    again = run_import(complet(), state, SETTINGS, dry_run=False, now=NOW + 86400)
    assert again.plan.count() == {"create": 0, "update": 0, "reactivate": 0, "deactivate": 0,
                                  "noop": 18}
    assert again.change_log is None
    assert logins_by_key(state) == logins
    hb = heartbeat.read(state)
    assert hb is not None and hb["status"] == "ok" and hb["last_success"] == NOW + 86400


def test_apply_journals_each_change_without_passwords(state: Path) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    records = directory_records(state)
    assert len(records) == 18
    assert {r["action"] for r in records} == {"created"}
    lea = next(r for r in records if r["key"] == "E1001")
    assert (lea["login"], lea["profile"], lea["source"]) == ("lea.martin", "eleve", "aaf")
    slips = pending.load(state)
    assert len(slips) == 18 and slips["lea.martin"].division == "6A"
    assert stat.S_IMODE(pending.path_in(state).stat().st_mode) == 0o600
    text = "".join(p.read_text(errors="replace") for p in (state / "imports").rglob("*.jsonl"))
    assert slips["lea.martin"].password not in text  # the change log has no password
    conn = db(state)
    row = conn.execute("SELECT password_hash, must_change FROM accounts WHERE login = "
                       "'lea.martin'").fetchone()
    assert row[0].startswith("$argon2id$") and row[1] == 1


def test_delta_then_full_without_someone_deactivates_then_reactivates(state: Path) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    delta = run_import(sorted(AAF.glob("*_Delta_*.xml")), state, SETTINGS, dry_run=False,
                       now=NOW + 10)
    assert {c.key: c.action for c in delta.plan.applicable()} == {
        "E1013": "create", "E1005": "update", "E1011": "deactivate"}
    assert logins_by_key(state)["E1011"][1:] == ("deactivated", "deactivated")
    conn = db(state)
    classes = conn.execute("SELECT g.code FROM memberships m JOIN groups g ON g.id = "
                           "m.group_id JOIN people p ON p.id = m.person_id WHERE p.join_key = "
                           "'E1005'").fetchall()
    assert [r[0] for r in classes] == ["6A"]
    # The September full file again: E1013 is absent (deactivated), E1011 back (reactivated).
    full = run_import(complet(), state, SETTINGS, dry_run=False, now=NOW + 20)
    actions = {c.key: c.action for c in full.plan.applicable()}
    assert actions == {"E1013": "deactivate", "E1011": "reactivate", "E1005": "update"}
    after = logins_by_key(state)
    assert after["E1011"] == ("ines.simon", "active", "active")
    assert after["E1013"][1:] == ("deactivated", "deactivated")
    # Staff are untouched by a pupils-only full file.
    only_pupils = [p for p in complet() if "_Eleve_" in p.name]
    assert all(c.category == "Eleve" for c in run_import(
        only_pupils, state, SETTINGS, dry_run=True, now=NOW + 30).plan.applicable())


def test_hostile_file_changes_nothing_and_the_heartbeat_says_so(state: Path) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    before = snapshot(state)
    for name in ("billion_laughs.xml", "external_entity.xml", "wrong_encoding.xml",
                 "truncated.xml", "garbage.xml"):
        with pytest.raises(ImportRefused):
            run_import([*complet(), AAF / "hostile" / name], state, SETTINGS, dry_run=False,
                       now=NOW + 60)
        assert snapshot(state) == before
    hb = heartbeat.read(state)
    assert hb is not None and hb["status"] == "refused" and hb["last_success"] == NOW


def generated(tmp_path: Path, count: int, bad: int | None = None) -> Path:
    path = tmp_path / "ENT_0691234X_Complet_20260901_Eleve_0000.xml"
    path.write_bytes(b.document(
        b.pupil(f"G{i:05d}", f"NOM{i}", "Prénom", CLG, f"C{i % 40}",
                birth="31/13/2013" if i == bad else "01/02/2013") for i in range(count)))
    return path


def test_an_error_in_record_500_of_1000_applies_nothing(state: Path, tmp_path: Path) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    before = snapshot(state)
    outcome = run_import([generated(tmp_path, 1000, bad=499)], state, SETTINGS, dry_run=False,
                         now=NOW + 60)
    assert not outcome.applied
    assert [(i.code, i.key) for i in outcome.analysis.blocking] == [("IMP-004", "G00499")]
    assert snapshot(state) == before


def test_a_failure_while_applying_change_500_rolls_everything_back(
        state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    before = snapshot(state)

    def fail(number: int, change: object) -> None:
        if number == 500:
            raise OSError("disk full (simulated)")

    monkeypatch.setattr(apply_module, "FAIL_AT", fail)
    with pytest.raises(ImportRefused) as caught:
        run_import([generated(tmp_path, 1000)], state, SETTINGS, dry_run=False, now=NOW + 60,
                   force=True)
    assert caught.value.code == "IMP-021" and "disk full" in caught.value.message
    assert snapshot(state) == before
    assert heartbeat.read(state)["status"] == "failed"  # type: ignore[index]


def test_a_truncated_split_export_does_not_deactivate_most_pupils(state: Path,
                                                                   tmp_path: Path) -> None:
    run_import([generated(tmp_path, 100)], state, SETTINGS, dry_run=False, now=NOW)
    part = generated(tmp_path, 30)
    outcome = run_import([part], state, SETTINGS, dry_run=False, now=NOW + 60)
    assert [i.code for i in outcome.plan.issues] == ["IMP-020"] and not outcome.applied
    forced = run_import([part], state, SETTINGS, dry_run=False, now=NOW + 60, force=True)
    assert forced.plan.count()["deactivate"] == 70


def test_csv_import_and_a_modification_of_an_unknown_person(state: Path) -> None:
    from tests.unit.imports.conftest import CSV

    outcome = run_import([CSV / "ecole-cp1252.csv"], state, SETTINGS, dry_run=False, now=NOW)
    assert outcome.plan.count()["create"] == 4
    assert logins_by_key(state)["C004"][0] == "noe.coeur"
    delta = AAF / "ENT_0691234X_Delta_20260915_Eleve_0000.xml"
    refused = run_import([delta], state, SETTINGS, dry_run=False, now=NOW + 1)
    assert [i.code for i in refused.plan.issues] == ["IMP-010"]


def test_journal_is_a_real_legal_journal(state: Path) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    journal = Journal.open(state / "journal")
    assert journal.root == state / "journal"
