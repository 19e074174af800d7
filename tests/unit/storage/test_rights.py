"""Rights table: pupil × teacher × staff × share kind × method, through the real WsgiDAV app
(in-process WSGI calls, no network): what each may do, what stays hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import rights
from storage.app import Storage
from tests.storagekit import Clock, make_config
from tests.unit.storage.davclient import Client

pytestmark = pytest.mark.unit


@pytest.fixture
def dav(tmp_path: Path) -> tuple[Client, Storage]:
    storage = Storage(make_config(tmp_path, pupils_write=("LATIN",)), now=Clock())
    return Client(storage.wsgi()), storage


# (who, method, path, expected status)
TABLE = [
    # homes: one's own only
    ("eleve.un", "PUT", "/perso/devoir.txt", 201),
    ("eleve.un", "MKCOL", "/perso/maths", 201),
    ("prof.un", "PUT", "/perso/cours.txt", 201),
    # class share: teachers write, pupils read only (unless the site says)
    ("prof.un", "PUT", "/classes/3A/consigne.txt", 201),
    ("eleve.un", "GET", "/classes/3A/consigne.txt", 200),
    ("eleve.un", "PUT", "/classes/3A/triche.txt", 403),
    ("eleve.un", "DELETE", "/classes/3A/consigne.txt", 403),
    ("eleve.deux", "GET", "/classes/3A/consigne.txt", 404),     # not their class
    ("eleve.deux", "PROPFIND", "/classes/3A/", 404),
    ("perso.un", "GET", "/classes/3A/consigne.txt", 404),       # staff: not a member
    # group share where pupils write (site: pupils_write: [LATIN])
    ("eleve.un", "PUT", "/groupes/LATIN/version.txt", 201),
    ("prof.un", "DELETE", "/groupes/LATIN/version.txt", 204),
    # staff share: teachers and staff, never pupils
    ("prof.un", "PUT", "/personnels/reunion.txt", 201),
    ("perso.un", "GET", "/personnels/reunion.txt", 200),
    ("eleve.un", "GET", "/personnels/reunion.txt", 404),
    ("eleve.un", "PROPFIND", "/personnels/", 404),
    # administration: staff only; pupils never see it
    ("perso.un", "PUT", "/administration/budget.ods", 201),
    ("prof.un", "GET", "/administration/budget.ods", 404),
    ("eleve.un", "PROPFIND", "/administration/", 404),
    # the virtual folders are read only
    ("prof.un", "MKCOL", "/nouveau", 403),
    ("prof.un", "MKCOL", "/classes/4C", 403),
    ("prof.un", "DELETE", "/classes/3A", 403),
    # moving out of a read-only share is refused, copying out of it is allowed
    ("eleve.un", "MOVE", "/classes/3A/consigne.txt", 403),
    ("eleve.un", "COPY", "/classes/3A/consigne.txt", 201),
]


def test_rights_table(dav: tuple[Client, Storage]) -> None:
    client, _ = dav
    got = []
    for who, method, path, _want in TABLE:
        headers = {}
        if method in ("MOVE", "COPY"):
            headers["destination"] = "https://carine:8444/perso/copie.txt"
        got.append(client(who, method, path, b"x" * 10 if method == "PUT" else b"",
                          **headers))
    assert [(t[0], t[1], t[2], g) for t, g in zip(TABLE, got, strict=True)] == TABLE


def test_root_lists_only_ones_spaces(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    assert client("eleve.un", "PROPFIND", "/", Depth="1") == 207
    user = storage.directory.user("eleve.un")
    assert user is not None
    from storage.tree import spaces_of
    assert "administration" not in spaces_of(user) and "personnels" not in spaces_of(user)


def test_item_rights_override_defaults(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    assert client("prof.un", "MKCOL", "/classes/3A/rendus") == 201
    rights.grant(storage.directory.conn(), "classes", "3A", "rendus", "group:3A", "rm")
    assert client("eleve.un", "PUT", "/classes/3A/rendus/moi.txt", b"abc") == 201
    assert client("eleve.un", "DELETE", "/classes/3A/rendus/moi.txt") == 403   # no d
    rights.grant(storage.directory.conn(), "classes", "3A", "rendus", "user:eleve.un", "")
    assert client("eleve.un", "GET", "/classes/3A/rendus/moi.txt") == 404      # hidden
    assert client("prof.un", "GET", "/classes/3A/rendus/moi.txt") == 200


def test_deactivated_account_loses_access_at_once(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    assert client("eleve.un", "PUT", "/perso/a.txt", b"abc") == 201
    conn = storage.directory.conn()
    with conn:
        conn.execute("UPDATE accounts SET state = 'deactivated' WHERE login = 'eleve.un'")
    assert client("eleve.un", "GET", "/perso/a.txt") == 401
    home = storage.cfg.root / "homes" / "eleve.un" / "a.txt"
    assert home.read_bytes() == b"abc"  # kept until the purge (D-DIR-3)


def test_lockout_counts_like_the_portal(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    for _ in range(5):
        assert client("eleve.deux", "PROPFIND", "/", password="faux") == 401
    locked = storage.directory.conn().execute(
        "SELECT locked_until FROM accounts WHERE login = 'eleve.deux'").fetchone()[0]
    assert locked is not None
    assert client("eleve.deux", "PROPFIND", "/") == 401   # even the right password


def test_purge_deletes_the_home(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    from appliance.directory import people
    assert client("eleve.un", "PUT", "/perso/a.txt", b"abc") == 201
    conn = storage.directory.conn()
    pid = conn.execute("SELECT person_id FROM accounts WHERE login = 'eleve.un'").fetchone()[0]
    people.deactivate(conn, pid, 0)
    conn.commit()
    assert storage.purge_homes() == []                       # deactivated: kept
    people.purge(conn, [pid])
    conn.commit()
    assert storage.purge_homes() == ["eleve.un"]
    assert not (storage.cfg.root / "homes" / "eleve.un").exists()
    assert storage.ledger.used.get("eleve.un", 0) == 0
