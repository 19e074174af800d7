"""Quota edges (exactly at, one byte past, replacing a file, across uploads), RFC 4331 figures,
the metrics snapshot, and path safety: traversal in every spelling, symlinks, names no client
accepts, Unicode normalised."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitoring.collect import _storage_families
from storage import metrics
from storage.app import Storage
from storage.names import BadName, check_segment
from tests.storagekit import Clock, make_config
from tests.unit.storage.davclient import Client

pytestmark = pytest.mark.unit
QUOTA = 2_000_000  # the pupils' quota in storagekit


@pytest.fixture
def dav(tmp_path: Path) -> tuple[Client, Storage]:
    storage = Storage(make_config(tmp_path), now=Clock())
    return Client(storage.wsgi()), storage


def home(storage: Storage, login: str = "eleve.un") -> Path:
    return storage.cfg.root / "homes" / login


def test_quota_edges(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    assert client("eleve.un", "PUT", "/perso/a.bin", b"a" * (QUOTA - 10)) == 201
    assert client("eleve.un", "PUT", "/perso/b.bin", b"b" * 10) == 201          # exactly full
    assert client("eleve.un", "PUT", "/perso/c.bin", b"c") == 507               # one past
    assert b"Quota" in client.body
    assert not (home(storage) / "c.bin").exists()
    assert not [p for p in home(storage).iterdir() if p.name.startswith(".~carine")]
    # Replacing a file counts its new size only; a bigger one that does not fit keeps the old.
    assert client("eleve.un", "PUT", "/perso/b.bin", b"B" * 10) == 204
    assert client("eleve.un", "PUT", "/perso/b.bin", b"X" * 11) == 507
    assert (home(storage) / "b.bin").read_bytes() == b"B" * 10
    # Deleting gives the bytes back; the other pupil's quota is their own.
    assert client("eleve.un", "DELETE", "/perso/a.bin") == 204
    assert client("eleve.un", "PUT", "/perso/c.bin", b"c" * 1000) == 201
    assert client("eleve.deux", "PUT", "/perso/big.bin", b"d" * (QUOTA - 1)) == 201
    assert storage.ledger.used == {"eleve.un": 1010, "eleve.deux": QUOTA - 1}


def test_per_user_override(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    cfg = cfg.model_copy(update={"quotas": cfg.quotas.model_copy(
        update={"users": {"eleve.un": 100}})})
    client = Client(Storage(cfg, now=Clock()).wsgi())
    assert client("eleve.un", "PUT", "/perso/a.bin", b"a" * 101) == 507
    assert client("eleve.deux", "PUT", "/perso/a.bin", b"a" * 101) == 201


QUOTA_PROPS = (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>'
               b"<D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>")


def test_rfc4331_properties_are_the_users_figures(dav: tuple[Client, Storage]) -> None:
    client, _ = dav
    assert client("eleve.un", "PUT", "/perso/a.bin", b"a" * 1234) == 201
    assert client("eleve.un", "PROPFIND", "/perso/", QUOTA_PROPS, Depth="0") == 207
    text = client.body.decode()
    used = re.search(r"quota-used-bytes>(\d+)<", text)
    free = re.search(r"quota-available-bytes>(\d+)<", text)
    assert used and free, text
    assert (int(used.group(1)), int(free.group(1))) == (1234, QUOTA - 1234)


def test_metrics_snapshot_and_families(dav: tuple[Client, Storage], tmp_path: Path) -> None:
    client, storage = dav
    assert client("eleve.un", "PUT", "/perso/a.bin", b"a" * (QUOTA - 5)) == 201   # warned
    assert client("eleve.un", "PUT", "/perso/b.bin", b"b" * 10) == 507
    assert client("prof.un", "PUT", "/perso/c.bin", b"c" * 7) == 201
    assert client("eleve.un", "PUT", "/personnels/x", b"x") == 404
    metrics.write(storage, tmp_path / "m.json")
    import json
    doc = json.loads((tmp_path / "m.json").read_text())
    assert doc["categories"]["pupil"] == {"used": QUOTA - 5, "quota": 2 * QUOTA, "files": 1,
                                          "warned": 1, "users": 2}
    assert doc["categories"]["teacher"]["used"] == 7
    assert doc["refusals"]["quota"] == 1 and doc["refusals"]["rights"] == 1
    families = {f.name: f for f in _storage_families(doc, "0691234X")}
    used = {s.labels["category"]: s.value for s in families["carine_storage_used_bytes"].samples}
    assert used == {"pupil": QUOTA - 5, "staff": 0, "teacher": 7}
    refused = {s.labels["reason"]: s.value
               for s in families["carine_storage_refusals"].samples}
    assert refused["quota"] == 1


@pytest.mark.parametrize("path", [
    "/perso/../homes/eleve.deux/x", "/perso/%2e%2e/x", "/perso/..%2fx", "/perso/a/../../x",
    "/perso/..\\x", "/perso/x\0y", "/perso/%c0%ae%c0%ae/x"])
def test_traversal_refused(dav: tuple[Client, Storage], path: str) -> None:
    client, storage = dav
    from urllib.parse import unquote
    status = client("eleve.un", "PUT", unquote(path), b"evil")
    assert status in (400, 403, 404, 409), (path, status)  # 409: no such parent
    assert not list(storage.cfg.root.rglob("x")) and not list(storage.cfg.root.rglob("x*y"))


def test_symlink_planted_on_disk_is_not_followed(dav: tuple[Client, Storage],
                                                  tmp_path: Path) -> None:
    client, storage = dav
    assert client("eleve.un", "MKCOL", "/perso/d") == 201
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (home(storage) / "lien").symlink_to(secret)
    (home(storage) / "dossier").symlink_to(tmp_path)
    assert client("eleve.un", "GET", "/perso/lien") in (403, 404)
    assert client("eleve.un", "PUT", "/perso/dossier/secret.txt", b"x") in (403, 404, 409)
    assert secret.read_text() == "secret"
    assert client("eleve.un", "PROPFIND", "/perso/", Depth="1") == 207
    assert b"lien" not in client.body


@pytest.mark.parametrize("name", ["CON", "nul.txt", "a:b", "a<b", 'a"b', "a|b", "a?b", "a*b",
                                  "fin.", "fin ", " debut", "a\tb", "\u202egnp.exe",
                                  "a\u200bb", "x" * 256, ".~carine-x"])
def test_names_no_client_accepts(name: str) -> None:
    with pytest.raises(BadName):
        check_segment(name)


def test_unicode_is_normalised(dav: tuple[Client, Storage]) -> None:
    client, storage = dav
    nfd = "e\u0301te\u0301.txt"   # "été" as a Mac sends it
    assert client("eleve.un", "PUT", "/perso/" + nfd, b"1") == 201
    assert client("eleve.un", "GET", "/perso/\u00e9t\u00e9.txt") == 200
    assert [p.name for p in home(storage).iterdir()] == ["\u00e9t\u00e9.txt"]
    assert check_segment("Devoir n°3 — été.odt") == "Devoir n°3 — été.odt"
