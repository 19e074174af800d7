"""D-DIR-3 purge and rollover, the password sheet, the hand-made accounts, the heartbeat the
exporter publishes, and the `carine users` commands end to end."""

from __future__ import annotations

import argparse
import stat
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from appliance.directory import accounts, passwords
from appliance.imports import pending
from appliance.imports.cli import register
from appliance.imports.lifecycle import purge
from appliance.imports.run import run_import
from appliance.imports.sheet import make_sheet
from appliance.imports.users import add_local, listing, reset_password
from monitoring.collect import ApplianceCollector, Paths
from tests.unit.imports.conftest import AAF, NOW, SETTINGS, complet, db
from tests.unit.imports.test_phases import directory_records, logins_by_key

pytestmark = pytest.mark.unit
DAY = 86400.0


def imported(state: Path) -> None:
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    run_import(sorted(AAF.glob("*_Delta_*.xml")), state, SETTINGS, dry_run=False,
               now=NOW + DAY)  # E1011 deactivated


def test_purge_after_three_months_and_at_the_rollover(state: Path) -> None:
    imported(state)
    conn = db(state)
    local = add_local(conn, state, state / "journal", NOW, last_name="Remplaçant",
                      first_name="Yves", profile="enseignant",
                      known_profiles=SETTINGS.known_profiles, division=None, uai=None,
                      email=None, actor="referent")
    conn.execute("UPDATE people SET state = 'deactivated', deactivated_at = ? WHERE local_id "
                 "LIKE 'local-%'", (NOW + DAY,))
    conn.commit()
    assert purge(conn, state, state / "journal", NOW + 80 * DAY, rollover=False,
                 actor="t", dry_run=False) == []  # not yet 3 months
    found = purge(conn, state, state / "journal", NOW + 94 * DAY, rollover=False,
                  actor="t", dry_run=False)
    assert [p.key for p in found] == ["E1011"]  # the hand-made account waits for the rollover
    assert "E1011" not in logins_by_key(state)
    rollover = purge(conn, state, state / "journal", NOW + 94 * DAY, rollover=True,
                     actor="t", dry_run=False)
    assert [p.login for p in rollover] == [local.login]
    purged = [r for r in directory_records(state) if r["action"] == "purged"]
    assert [r["login"] for r in purged] == ["ines.simon", local.login]
    # The login stays reserved: a new Inès Simon gets another one.
    from appliance.directory import logins

    assert logins.allocate(conn, "Inès", "Simon") == "ines.simon2"
    assert "ines.simon" not in pending.load(state)


def test_sheet_prints_one_slip_per_pupil_of_the_class_then_forgets_them(state: Path,
                                                                         tmp_path: Path) -> None:
    imported(state)
    conn = db(state)
    # Zoé moved to 6A in the delta (her slip follows her) but already chose her own password.
    zoe = accounts.find(conn, "zoe.robert")
    assert zoe is not None
    accounts.set_password(conn, zoe.id, "un-autre-mot", NOW)
    out = tmp_path / "6A.html"
    result = make_sheet(conn, state, out, "6A", "Collège Jean Moulin", "http://portail.lan/",
                        now=NOW)
    html = out.read_text()
    assert (result.printed, result.stale) == (3, 1)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    for login in ("lea.martin", "noe.bernard", "chloe.dubois"):
        assert login in html
    assert "zoe.robert" not in html and "sophie.garnier" not in html  # teachers: no 6A slip
    assert "@page { size: A4" in html and "break-before: page" in html
    assert "http://portail.lan/" in html and "Mot de passe" in html
    assert not {"lea.martin", "noe.bernard", "chloe.dubois", "zoe.robert"} & set(
        pending.load(state))
    assert make_sheet(conn, state, out, "6A", "", "http://p/", now=NOW).printed == 0


def test_sheet_escapes_names(state: Path, tmp_path: Path) -> None:
    conn = db(state)
    add_local(conn, state, state / "journal", NOW, last_name="<b>Evil</b>", first_name="X",
              profile="eleve", known_profiles=SETTINGS.known_profiles, division="6Z",
              uai=None, email=None, actor="t")
    make_sheet(conn, state, tmp_path / "s.html", "6Z", "", "http://p/", now=NOW)
    assert "&lt;b&gt;Evil" in (tmp_path / "s.html").read_text()


def test_reset_password_gives_a_new_initial_one(state: Path) -> None:
    imported(state)
    conn = db(state)
    new = reset_password(conn, state, state / "journal", NOW + 2 * DAY, "lea.martin", "ref")
    assert accounts.authenticate(conn, "lea.martin", new.password, NOW + 2 * DAY).ok
    assert accounts.find(conn, "lea.martin").must_change  # type: ignore[union-attr]
    assert pending.load(state)["lea.martin"].password == new.password
    assert directory_records(state)[-1]["action"] == "password-reset"
    assert passwords.verify(None, new.password) is False
    assert [r["login"] for r in listing(conn, division="6A")] == [  # pupils and teachers
        "noe.bernard", "chloe.dubois", "sophie.garnier", "lea.martin", "zoe.robert"]


def test_exporter_publishes_the_heartbeat_the_import_writes(state: Path, tmp_path: Path) -> None:
    paths = Paths("0691234X", state, tmp_path / "run", tmp_path / "log",
                  tmp_path / "rendered.json", ())
    registry = CollectorRegistry()
    registry.register(ApplianceCollector(paths))
    assert b"carine_import_heartbeat_timestamp_seconds{" not in generate_latest(registry)
    run_import(complet(), state, SETTINGS, dry_run=False, now=NOW)
    text = generate_latest(registry).decode()
    assert 'carine_import_heartbeat_timestamp_seconds{uai="0691234X"} 1.79e+09' in text


def cli(*argv: str) -> int:
    top = argparse.ArgumentParser()
    top.add_argument("-v", "--verbose", action="store_true")
    register(top.add_subparsers(dest="command"))
    args = top.parse_args(list(argv))
    code: int = args.func(args)
    return code


def test_commands_end_to_end(state: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in complet()]
    assert cli("users", "import", "--state", str(state), "--uai", "0691234X", "--dry-run",
               *files) == 0
    out = capsys.readouterr().out
    assert "lea.martin" in out and "NOT applied (dry run)" in out
    assert not (state / "imports/heartbeat.json").exists()
    assert cli("users", "import", "--state", str(state), "--uai", "0691234X", *files) == 0
    assert "18 create" in capsys.readouterr().out
    assert cli("users", "list", "--state", str(state), "--class", "6B") == 0
    assert "mael.thomas" in capsys.readouterr().out
    assert cli("users", "show", "--state", str(state), "sophie.garnier") == 0
    shown = capsys.readouterr().out
    assert "enseignant" in shown and "6A,5A" in shown and "$argon2" not in shown
    assert cli("users", "add", "--state", str(state), "--nom", "Durand", "--prenom", "Paul",
               "--profil", "enseignant") == 0
    assert "paul.durand" in capsys.readouterr().out
    assert cli("users", "sheet", "--state", str(state), "--class", "3A", "--out",
               str(tmp_path / "3A.html")) == 0
    assert cli("users", "purge", "--state", str(state), "--dry-run") == 0
    assert "0 to purge" in capsys.readouterr().out
