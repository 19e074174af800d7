"""A storage server for tests: a state store with a pupil, a second pupil, a teacher and a
staff member in classes and groups, a StorageConfig, and the real WsgiDAV app served by cheroot
over TLS on a free loopback port in a thread (stopped at the end)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.wsgi import Server

from appliance.directory import accounts, people
from appliance.directory.schema import open_directory
from appliance.tls import write_self_signed
from storage.app import Storage
from storage.config import Quotas, StorageConfig

PASSWORD = "Motdepasse-123"
T0 = 1_796_000_000.0  # 2026-11-30, a fixed time: tests never read the wall clock
# login, profile, classes, groups
PEOPLE: tuple[tuple[str, str, list[str], list[str]], ...] = (
    ("eleve.un", "eleve", ["3A"], ["LATIN"]), ("eleve.deux", "eleve", ["3B"], []),
    ("prof.un", "enseignant", ["3A", "3B"], ["LATIN"]), ("perso.un", "personnel", [], []))


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> float:
        return self.at


def make_store(path: Path) -> None:
    conn = open_directory(path)
    for login, profile, classes, groups in PEOPLE:
        person = people.Person(None, f"local-{login}", "local", login.split(".")[1].title(),
                               login.split(".")[0].title(), profile)
        pid, _ = people.upsert(conn, person, 0)
        people.set_groups(conn, pid, "0691234X", [(c, c, "class") for c in classes]
                          + [(g, g, "group") for g in groups])
        aid = accounts.create(conn, pid, login, PASSWORD, 0)
        accounts.set_password(conn, aid, PASSWORD, 0)
    conn.commit()
    conn.close()


def make_config(tmp: Path, **changes: Any) -> StorageConfig:
    tls = tmp / "tls.pem"
    if not tls.exists():
        write_self_signed(tls, "carine.lan")
    store = tmp / "state.sqlite"
    if not store.exists():
        make_store(store)
    doc: dict[str, Any] = {
        "listen": ("127.0.0.1",), "port": 0, "root": tmp / "tree", "store": store, "tls": tls,
        "hostname": "carine.lan",
        "profiles": {"eleve": "pupil", "enseignant": "teacher", "personnel": "staff"},
        "quotas": Quotas(pupil=2_000_000, teacher=50_000_000, staff=50_000_000),
        "antivirus": False}
    doc.update(changes)
    return StorageConfig(**doc)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    storage: Storage
    url: str
    port: int
    clock: Clock


@contextmanager
def serve(cfg: StorageConfig, *, threads: int = 16, tls: bool = True,
          storage: Storage | None = None, app: Any = None) -> Iterator[Served]:
    clock = Clock()
    storage = storage or Storage(cfg, now=clock)
    port = free_port()
    server = Server(("127.0.0.1", port), app or storage.wsgi(), numthreads=threads,
                    server_name="carine", request_queue_size=256)
    if tls:
        server.ssl_adapter = BuiltinSSLAdapter(str(cfg.tls), str(cfg.tls))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield Served(storage, f"{'https' if tls else 'http'}://127.0.0.1:{port}", port, clock)
    finally:
        server.stop()
        thread.join(10)


# The EICAR test file, and a local signature set that names it: clamd needs no download.
EICAR = (b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


@contextmanager
def clamd(tmp: Path) -> Iterator[Path]:
    """A real clamd on a local socket with a one-signature database (EICAR); its socket."""
    import os
    import signal
    import time

    from appliance.run import spawn
    from tests.conftest import require_tool

    binary = require_tool("clamd")
    db = tmp / "clamav-db"
    db.mkdir(exist_ok=True)
    (db / "carine-test.ndb").write_text(f"Carine-Test-EICAR:0:*:{EICAR.hex()}\n")
    sock = tmp / "clamd.sock"
    conf = tmp / "clamd.conf"
    conf.write_text(f"LocalSocket {sock}\nDatabaseDirectory {db}\nForeground yes\n"
                    f"LogFile {tmp / 'clamd.log'}\nStreamMaxLength 200M\nMaxThreads 20\n")
    pid = spawn([binary, "-c", str(conf)], logfile=tmp / "clamd.out")
    try:
        for _ in range(600):  # a wait for readiness, not a timed assertion
            if sock.exists():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("clamd did not start: " + (tmp / "clamd.out").read_text())
        yield sock
    finally:
        os.kill(pid, signal.SIGTERM)
        os.waitpid(pid, 0)
