"""Sessions: one per address, replacement, expiry, and the identity lookup the filter uses."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.sessions import store
from appliance.sessions.identity import IdentityLookup
from appliance.sessions.store import Method

pytestmark = pytest.mark.unit
NOW = 1_790_000_000.0


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.sqlite"


@pytest.fixture
def conn(path: Path) -> sqlite3.Connection:
    return store.open_store(path)


def open_for(conn: sqlite3.Connection, login: str, ip: str, profile: str = "eleve",
             now: float = NOW) -> store.Session:
    session, _ = store.start(conn, method=Method.PORTAL, login=login, profile=profile, ip=ip,
                             mac="02:00:00:00:00:01", zone="pedago", now=now,
                             idle_timeout=1800, lifetime=36000)
    return session


def test_a_new_login_on_an_address_replaces_the_old_session(conn: sqlite3.Connection) -> None:
    first = open_for(conn, "lea.martin", "10.30.0.10")
    second, replaced = store.start(conn, method=Method.DOT1X, login="paul.durand",
                                   profile="enseignant", ip="10.30.0.10", mac=None, zone="pedago",
                                   now=NOW + 5, idle_timeout=600, lifetime=3600,
                                   acct_session="A1")
    assert replaced is not None and replaced.id == first.id and replaced.end_reason == "replaced"
    assert store.by_ip(conn, "10.30.0.10") == second
    assert store.by_accounting(conn, "A1") == second


def test_expiry_idle_and_absolute(conn: sqlite3.Connection) -> None:
    idle = open_for(conn, "a", "10.30.0.1")
    busy = open_for(conn, "b", "10.30.0.2")
    store.seen(conn, busy.id, NOW + 1700)
    assert [s.id for s in store.expire(conn, NOW + 1801)] == [idle.id]
    closed = store.expire(conn, NOW + 36000)
    assert [(s.id, s.end_reason) for s in closed] == [(busy.id, "timeout")]
    assert store.open_sessions(conn) == []


def test_identity_lookup_follows_the_store(conn: sqlite3.Connection, path: Path) -> None:
    lookup = IdentityLookup(path)
    lookup.refresh()
    assert lookup.lookup("10.30.0.10", NOW) is None
    session = open_for(conn, "paul.durand", "10.30.0.10", profile="enseignant")
    lookup.refresh()
    found = lookup.lookup("10.30.0.10", NOW + 1)
    assert found is not None and (found.login, found.profile) == ("paul.durand", "enseignant")
    assert lookup.lookup("10.30.0.10", NOW + 36000) is None  # past its absolute end
    store.end(conn, session.id, "logout", NOW + 2)
    lookup.refresh()
    assert lookup.lookup("10.30.0.10", NOW + 3) is None


def test_identity_lookup_without_a_store_or_table(tmp_path: Path) -> None:
    lookup = IdentityLookup(tmp_path / "missing.sqlite")
    lookup.refresh()
    assert lookup.lookup("10.0.0.1", NOW) is None
    sqlite3.connect(tmp_path / "empty.sqlite").close()
    empty = IdentityLookup(tmp_path / "empty.sqlite")
    empty.refresh()
    assert empty.lookup("10.0.0.1", NOW) is None
