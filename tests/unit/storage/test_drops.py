"""Drop boxes: a teacher opens one for a class with a deadline, pupils hand in and see only
their own, the teacher collects them all as one archive and hands corrected files back; after
the deadline pupils read only; another class never sees the box."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from appliance.errors import CarineError
from storage import drops
from storage.app import Storage
from tests.storagekit import T0, Clock, make_config
from tests.unit.storage.davclient import Client

pytestmark = pytest.mark.unit
BOX = "/depots/3A/devoir-1/"


@pytest.fixture
def dav(tmp_path: Path) -> tuple[Client, Storage, Clock]:
    clock = Clock()
    storage = Storage(make_config(tmp_path), now=clock)
    drops.open_box(storage.directory.conn(), "3A", "devoir-1", "prof.un", T0 + 3600, T0)
    return Client(storage.wsgi()), storage, clock


def test_hand_in_collect_hand_back(dav: tuple[Client, Storage, Clock]) -> None:
    client, _, clock = dav
    assert client("eleve.un", "PROPFIND", "/depots/3A/", Depth="1") == 207
    assert b"devoir-1" in client.body
    assert client("eleve.un", "PUT", BOX + "copie.odt", b"ma copie") == 201
    assert client("eleve.un", "GET", BOX + "copie.odt") == 200
    assert client("eleve.deux", "PROPFIND", "/depots/3A/", Depth="1") == 404  # other class
    # The teacher sees each pupil's folder and takes them all in one archive.
    assert client("prof.un", "PROPFIND", BOX + "remis/", Depth="1") == 207
    assert b"eleve.un" in client.body
    assert client("prof.un", "PROPFIND", BOX, Depth="1") == 207
    assert b"tout.zip" in client.body
    assert client("prof.un", "GET", BOX + "tout.zip") == 200
    names = zipfile.ZipFile(io.BytesIO(client.body)).namelist()
    assert names == ["eleve.un/copie.odt"]
    assert client("prof.un", "PUT", BOX + "remis/eleve.un/copie.odt", b"x") == 403
    # Hands back a corrected copy: only that pupil sees it, read only.
    assert client("prof.un", "MKCOL", BOX + "corriges/eleve.un") == 201
    assert client("prof.un", "PUT", BOX + "corriges/eleve.un/copie-corrigee.odt", b"14/20") \
        == 201
    assert client("eleve.un", "PROPFIND", BOX, Depth="1") == 207
    assert b"corriges" in client.body
    assert client("eleve.un", "GET", BOX + "corriges/copie-corrigee.odt") == 200
    assert client.body == b"14/20"
    assert client("eleve.un", "DELETE", BOX + "corriges/copie-corrigee.odt") == 403
    # After the deadline: read only for pupils.
    clock.at = T0 + 3601
    assert client("eleve.un", "PUT", BOX + "retard.odt", b"trop tard") == 403
    assert client("eleve.un", "DELETE", BOX + "copie.odt") == 403
    assert client("eleve.un", "GET", BOX + "copie.odt") == 200


def test_pupils_see_only_their_own(tmp_path: Path) -> None:
    storage = Storage(make_config(tmp_path), now=Clock())
    conn = storage.directory.conn()
    # A second pupil of 3A.
    from appliance.directory import accounts, people
    person = people.Person(None, "local-eleve.trois", "local", "Trois", "Eleve", "eleve")
    pid, _ = people.upsert(conn, person, 0)
    people.set_groups(conn, pid, "0691234X", [("3A", "3A", "class")])
    aid = accounts.create(conn, pid, "eleve.trois", "Motdepasse-123", 0)
    accounts.set_password(conn, aid, "Motdepasse-123", 0)
    conn.commit()
    drops.open_box(conn, "3A", "devoir-1", "prof.un", None, T0)
    client = Client(storage.wsgi())
    assert client("eleve.un", "PUT", BOX + "a.odt", b"a") == 201
    assert client("eleve.trois", "PUT", BOX + "b.odt", b"b") == 201
    assert client("eleve.trois", "PROPFIND", BOX, Depth="1") == 207
    assert b"b.odt" in client.body and b"a.odt" not in client.body
    assert client("eleve.trois", "GET", BOX + "a.odt") == 404


def test_only_a_teacher_of_the_class_opens_a_box(tmp_path: Path) -> None:
    storage = Storage(make_config(tmp_path), now=Clock())
    conn = storage.directory.conn()
    with pytest.raises(CarineError, match="does not teach"):
        drops.open_box(conn, "3A", "x", "eleve.un", None, T0)
    drops.open_box(conn, "3A", "x", "prof.un", None, T0)
    with pytest.raises(CarineError, match="already has"):
        drops.open_box(conn, "3A", "x", "prof.un", None, T0)


def test_a_teacher_opens_a_box_over_webdav(tmp_path: Path) -> None:
    """MKCOL /depots/<class>/<name> by a teacher of the class opens the box (no deadline
    until one is set); nobody else opens one that way, and a name is taken once."""
    clock = Clock()
    storage = Storage(make_config(tmp_path), now=clock)
    client = Client(storage.wsgi())
    assert client("eleve.un", "MKCOL", "/depots/3A/devoir-2") == 403     # a pupil
    assert client("prof.un", "MKCOL", "/depots/4C/devoir-2") == 404      # not their class
    assert client("prof.un", "MKCOL", "/depots/3A/devoir:2") == 403      # a bad name
    assert client("prof.un", "MKCOL", "/depots/3A/devoir-2/") == 201
    box = storage.boxes("3A")["devoir-2"]
    assert (box.teacher, box.deadline) == ("prof.un", None)
    assert client("prof.un", "MKCOL", "/depots/3A/devoir-2") in (403, 405)  # taken
    assert client("eleve.un", "PROPFIND", "/depots/3A/", Depth="1") == 207
    assert b"devoir-2" in client.body
    assert client("eleve.un", "PUT", "/depots/3A/devoir-2/copie.odt", b"ma copie") == 201
    drops.set_deadline(storage.directory.conn(), "3A", "devoir-2", T0 + 60)
    clock.at = T0 + 61
    assert client("eleve.un", "PUT", "/depots/3A/devoir-2/retard.odt", b"tard") == 403
    assert client("prof.un", "GET", "/depots/3A/devoir-2/tout.zip") == 200
    assert zipfile.ZipFile(io.BytesIO(client.body)).namelist() == ["eleve.un/copie.odt"]
    with pytest.raises(CarineError, match="no drop box"):
        drops.set_deadline(storage.directory.conn(), "3A", "absent", None)
