"""ClamAV on upload with a real clamd and a local signature set: EICAR refused with a clear
status, counted and recorded, never stored (not even its temporary file); clean files pass;
clamd down: uploads refused (fail closed) with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.antivirus import Scanner
from storage.app import Storage
from tests.storagekit import EICAR, Clock, clamd, make_config
from tests.unit.storage.davclient import Client

pytestmark = pytest.mark.contract


def test_eicar_refused_clean_stored_clamd_down_fails_closed(tmp_path: Path) -> None:
    with clamd(tmp_path) as sock:
        storage = Storage(make_config(tmp_path, antivirus=True, clamd_socket=str(sock)),
                          now=Clock())
        storage.scanner = Scanner(str(sock), 100_000_000, storage.counters)
        assert storage.scanner.ping()
        client = Client(storage.wsgi())
        assert client("eleve.un", "PUT", "/perso/propre.txt", b"un devoir\n" * 1000) == 201
        assert client("eleve.un", "PUT", "/perso/eicar.com", EICAR) == 403
        assert b"Virus" in client.body and b"Carine-Test-EICAR" in client.body
        # The same file replacing a clean one leaves the clean one.
        assert client("eleve.un", "PUT", "/perso/propre.txt", b"x" * 100 + EICAR) == 403
        home = storage.cfg.root / "homes" / "eleve.un"
        assert sorted(p.name for p in home.iterdir()) == ["propre.txt"]
        assert (home / "propre.txt").read_bytes() == b"un devoir\n" * 1000
        assert storage.counters.refusals["virus"] == 2
        rows = storage.directory.conn().execute(
            "SELECT login, path, reason, detail FROM storage_events ORDER BY id").fetchall()
        assert [tuple(r) for r in rows] == [
            ("eleve.un", "/perso/eicar.com", "virus", "Carine-Test-EICAR.UNOFFICIAL"),
            ("eleve.un", "/perso/propre.txt", "virus", "Carine-Test-EICAR.UNOFFICIAL")]
        assert storage.ledger.used["eleve.un"] == 10_000
    # clamd stopped: fail closed.
    assert not storage.scanner.ping()
    assert client("eleve.un", "PUT", "/perso/nouveau.txt", b"rien de grave") == 503
    assert b"Antivirus indisponible" in client.body
    assert not (home / "nouveau.txt").exists()
    assert storage.counters.refusals["antivirus-unavailable"] == 1
