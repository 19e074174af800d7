"""Accounts: creation, authentication outcomes, lockout, charter, logins never reused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.directory import accounts, logins, passwords, people
from appliance.directory.accounts import Lockout, Outcome
from appliance.directory.people import Person
from appliance.directory.schema import open_directory
from appliance.errors import CarineError

pytestmark = pytest.mark.unit
NOW = 1_790_000_000.0


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    return open_directory(tmp_path / "state.sqlite")


def pupil(conn: sqlite3.Connection, key: str = "AAF1", first: str = "Léa",
          last: str = "Martin") -> int:
    person_id, created = people.upsert(conn, Person(key, None, "aaf", last, first, "eleve"), NOW)
    assert created
    return person_id


def test_login_is_folded_ascii_and_unique(conn: sqlite3.Connection) -> None:
    assert logins.base_login("Éloïse-Marie", "d'Arc") == "eloisemarie.darc"
    assert logins.base_login("李", "王") == "compte"
    assert logins.base_login("A", "") == "a.compte"
    assert logins.base_login("Jean", "Dupont-de-la-Grande-Maison")[:20] == "jean.dupontdelagrand"
    first = logins.allocate(conn, "Léa", "Martin")
    accounts.create(conn, pupil(conn), first, "secret-123", NOW)
    second = logins.allocate(conn, "Lea", "MARTIN")
    assert (first, second) == ("lea.martin", "lea.martin2")


def test_a_purged_persons_login_is_never_given_again(conn: sqlite3.Connection) -> None:
    person_id = pupil(conn)
    accounts.create(conn, person_id, "lea.martin", "secret-123", NOW)
    people.deactivate(conn, person_id, NOW)
    people.purge(conn, people.purgeable(conn, NOW + 93 * 86400))
    assert accounts.find(conn, "lea.martin") is None
    assert logins.allocate(conn, "Léa", "Martin") == "lea.martin2"
    with pytest.raises(CarineError, match="never reused"):
        accounts.create(conn, pupil(conn, "AAF2"), "lea.martin", "x" * 8, NOW)


def test_outcomes_and_lockout(conn: sqlite3.Connection) -> None:
    account_id = accounts.create(conn, pupil(conn), "lea.martin", "bon-mot-de-passe", NOW)
    ok = accounts.authenticate(conn, "Lea.Martin ", "bon-mot-de-passe", NOW)
    assert ok.ok and ok.account is not None and ok.account.id == account_id
    assert ok.account.profile == "eleve" and ok.account.display_name == "Léa Martin"
    assert accounts.authenticate(conn, "nobody", "x", NOW).outcome is Outcome.UNKNOWN
    lockout = Lockout(attempts=3, minutes=10)
    outcomes = [accounts.authenticate(conn, "lea.martin", "faux", NOW, lockout).outcome
                for _ in range(3)]
    assert outcomes == [Outcome.BAD_PASSWORD, Outcome.BAD_PASSWORD, Outcome.LOCKED]
    # Locked: even the right password is refused until the lock ends.
    assert accounts.authenticate(conn, "lea.martin", "bon-mot-de-passe", NOW + 60,
                                 lockout).outcome is Outcome.LOCKED
    assert accounts.authenticate(conn, "lea.martin", "bon-mot-de-passe", NOW + 601,
                                 lockout).ok


def test_a_deactivated_person_cannot_log_in(conn: sqlite3.Connection) -> None:
    person_id = pupil(conn)
    accounts.create(conn, person_id, "lea.martin", "bon-mot-de-passe", NOW)
    assert people.deactivate(conn, person_id, NOW)
    result = accounts.authenticate(conn, "lea.martin", "bon-mot-de-passe", NOW)
    assert result.outcome is Outcome.DEACTIVATED
    # Seen again in an import: active again, and so is the login.
    people.upsert(conn, Person("AAF1", None, "aaf", "Martin", "Léa", "eleve"), NOW + 5)
    conn.execute("UPDATE accounts SET state = 'active' WHERE person_id = ?", (person_id,))
    assert accounts.authenticate(conn, "lea.martin", "bon-mot-de-passe", NOW).ok


def test_password_change_charter_and_nt_hash(conn: sqlite3.Connection) -> None:
    account_id = accounts.create(conn, pupil(conn), "lea.martin", "initial-42", NOW)
    account = accounts.find(conn, "lea.martin")
    assert account is not None and account.must_change and account.charter_needed("2026-1")
    accounts.set_password(conn, account_id, "nouveau-mdp-7", NOW, with_nt_hash=True)
    accounts.acknowledge_charter(conn, account_id, "2026-1", NOW)
    account = accounts.find(conn, "lea.martin")
    assert account is not None and not account.must_change
    assert not account.charter_needed("2026-1") and account.charter_needed("2027-1")
    stored = conn.execute("SELECT password_hash, nt_hash FROM accounts").fetchone()
    assert stored[0].startswith("$argon2id$") and "nouveau" not in stored[0]
    # The NT hash of "password" is a published test vector.
    assert passwords.nt_hash("password") == "8846f7eaee8fb117ad06bdd830b7586c"
    assert stored[1] == passwords.nt_hash("nouveau-mdp-7")


@pytest.mark.parametrize(("password", "refused"), [
    ("court", True), ("lea.martin-2026", True), ("aaaaaaaaaaa", True), ("Chat-vert-9", False)])
def test_new_password_rules(password: str, refused: bool) -> None:
    assert (passwords.check_new_password(password, "lea.martin") is not None) is refused


def test_initial_passwords_avoid_look_alikes() -> None:
    words = {passwords.initial_password() for _ in range(200)}
    assert len(words) == 200
    assert not any(set(w) & set("01ilIoO") for w in words)


def test_nt_hashes_follow_the_store_setting(conn: sqlite3.Connection) -> None:
    # PEAP-MSCHAPv2 needs them; every writer of passwords follows one setting of the store.
    account_id = accounts.create(conn, pupil(conn), "lea.martin", "initial-42", NOW)

    def nt() -> str | None:
        value: str | None = conn.execute("SELECT nt_hash FROM accounts").fetchone()[0]
        return value

    assert not accounts.keeps_nt_hashes(conn) and nt() is None
    accounts.keep_nt_hashes(conn, True)
    # Turned on after the password was set: the next successful login fills it in.
    assert accounts.authenticate(conn, "lea.martin", "initial-42", NOW).ok
    assert nt() == passwords.nt_hash("initial-42")
    # A password change (the portal's) keeps it current.
    accounts.set_password(conn, account_id, "nouveau-mdp-7", NOW)
    assert nt() == passwords.nt_hash("nouveau-mdp-7")
    second = accounts.create(conn, pupil(conn, "AAF2", "Paul", "Durand"), "paul.durand",
                             "initial-43", NOW)
    assert conn.execute("SELECT nt_hash FROM accounts WHERE id = ?",
                        (second,)).fetchone()[0] == passwords.nt_hash("initial-43")
    # Off: every stored NT hash is forgotten at once.
    accounts.keep_nt_hashes(conn, False)
    left = conn.execute("SELECT COUNT(*) FROM accounts WHERE nt_hash IS NOT NULL").fetchone()
    assert left[0] == 0
