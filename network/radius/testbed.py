"""A real FreeRADIUS on a rendered site, alone in a ``carine-radius-*`` network namespace: the
tests and the benchmark start it, seed the directory, and talk to it with eapol_test and
radclient over the namespace's loopback. Stopped by the PID it was started with.

Needs root (namespaces); the FreeRADIUS it runs listens where the rendered site says, plus
127.0.0.1, exactly as on the appliance."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path
from types import TracebackType

from appliance.directory import accounts, passwords, people
from appliance.errors import CarineError
from appliance.lab import netns
from appliance.render import render_tree
from appliance.render.layout import Layout
from appliance.run import Result, run, spawn
from appliance.site import Site
from network.radius import secrets
from network.radius.paths import CONFIG_DIR, LOCAL_CLIENT, RadiusPaths
from network.radius.service import client_zones
from network.radius.state import ensure_state

EAPOL_TEMPLATES = {
    "peap": 'network={{\n  key_mgmt=IEEE8021X\n  eap=PEAP\n  identity="{login}"\n'
            '  anonymous_identity="anonymous"\n  password="{password}"\n  ca_cert="{ca}"\n'
            '  phase2="auth=MSCHAPV2"\n}}\n',
    "ttls": 'network={{\n  key_mgmt=IEEE8021X\n  eap=TTLS\n  identity="{login}"\n'
            '  anonymous_identity="anonymous"\n  password="{password}"\n  ca_cert="{ca}"\n'
            '  phase2="auth=PAP"\n}}\n',
    "tls": 'network={{\n  key_mgmt=IEEE8021X\n  eap=TLS\n  identity="{login}"\n'
           '  ca_cert="{ca}"\n  client_cert="{cert}"\n  private_key="{key}"\n}}\n',
}


class Testbed:
    """FreeRADIUS for ``site`` rendered under ``work``, in namespace ``ns``."""

    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, site: Site, work: Path, ns: str = "carine-radius-t") -> None:
        if not ns.startswith("carine-"):
            raise CarineError(f"namespace {ns!r} must start with carine-")
        self.site, self.work, self.ns = site, work.absolute(), ns
        self.root = self.work / "tree"
        self.layout = Layout.in_tree(self.root)
        self.paths = RadiusPaths.of(self.layout)
        self.pid: int | None = None
        self.debug: list[str] = ["-X"] if os.environ.get("CARINE_RADIUS_DEBUG") else []
        self.log = self.work / "freeradius.log"

    @property
    def confdir(self) -> Path:
        return self.layout.etc(CONFIG_DIR)

    @property
    def state_db(self) -> Path:
        return self.layout.state / "state.sqlite"

    @property
    def journal(self) -> Path:
        return self.layout.state / "journal"

    def secret(self) -> str:
        return secrets.read(self.paths, LOCAL_CLIENT)

    def prepare(self) -> None:
        """Render the site and make its RADIUS state (secrets, CA, server certificate, CRL)."""
        render_tree(self.site, self.root)
        ensure_state(self.layout)
        for folder in (self.layout.log / "freeradius", self.layout.run / "freeradius"):
            folder.mkdir(parents=True, exist_ok=True)

    def start(self, timeout: float = 30) -> None:
        if self.ns in netns.namespaces():
            netns.del_ns(self.ns)  # a crashed run's leftover: ours by its name
        netns.add_ns(self.ns)
        netns.link_up(self.ns, "lo")
        for name in client_zones(self.site):
            zone = self.site.zone(name)
            dev = f"z{zone.vlan}"
            netns.bridge(self.ns, dev)
            netns.address(self.ns, dev, str(zone.gateway_interface()))
        self.pid = spawn(["ip", "netns", "exec", self.ns, "freeradius", *self.debug, "-f",
                          "-l", "stdout", "-d", str(self.confdir)], logfile=self.log)
        port = self.site.radius.auth_port
        deadline = time.monotonic() + timeout
        while not netns.listening(self.ns, "udp", port):
            if time.monotonic() > deadline or not self.alive():
                raise CarineError(f"FreeRADIUS did not start: {self.log_tail()}")
            time.sleep(0.1)

    def alive(self) -> bool:
        if self.pid is None:
            return False
        try:
            done, _ = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return done == 0

    def log_tail(self, size: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.pid is not None and self.alive():
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self.alive() and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.alive():
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        self.pid = None
        if self.ns in netns.namespaces():
            netns.del_ns(self.ns)

    def __enter__(self) -> Testbed:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- clients -------------------------------------------------------------------------

    def eapol(self, method: str, login: str, password: str = "", *, mac: str = "02:00:00:00:00:01",
              cert: Path | None = None, key: Path | None = None, timeout: int = 10) -> Result:
        """One eapol_test authentication from the namespace's loopback (exit 0 = success)."""
        conf = self.work / f"eapol-{method}-{login}-{os.getpid()}-{time.monotonic_ns()}.conf"
        conf.write_text(EAPOL_TEMPLATES[method].format(
            login=login, password=password, ca=self.paths.ca_cert, cert=cert, key=key),
            encoding="utf-8")
        conf.chmod(0o600)
        try:
            return netns.in_ns(self.ns, [
                "eapol_test", "-c", str(conf), "-a", "127.0.0.1",
                "-p", str(self.site.radius.auth_port), "-s", self.secret(), "-M", mac,
                "-t", str(timeout)], check=False, timeout=timeout + 5)
        finally:
            conf.unlink(missing_ok=True)

    def radclient(self, kind: str, attributes: dict[str, str]) -> Result:
        """One radclient request (``auth`` or ``acct``) with ``attributes``."""
        port = self.site.radius.auth_port if kind == "auth" else self.site.radius.acct_port
        text = "\n".join(f'{k} = "{v}"' for k, v in attributes.items()) + "\n"
        return run(["ip", "netns", "exec", self.ns, "radclient", "-x", "-r", "1", "-t", "5",
                    f"127.0.0.1:{port}", kind, self.secret()],
                   check=False, timeout=15, input_text=text, secrets=[self.secret()])


def add_account(conn: sqlite3.Connection, login: str, password: str, profile: str, *,
                nt_hash: bool = True, now: float | None = None) -> int:
    """A person and an active account, as an import and a first login would leave them."""
    when = time.time() if now is None else now
    person_id, _ = people.upsert(
        conn, people.Person(None, f"local-{login}", "local", login, "Test", profile), when)
    account_id = accounts.create(conn, person_id, login, password, when, with_nt_hash=nt_hash)
    conn.commit()
    return account_id


def add_filler(conn: sqlite3.Connection, count: int, profile: str = "eleve",
               prefix: str = "filler") -> None:
    """``count`` more people and accounts in bulk, sharing one argon2id hash (hashing 100,000
    passwords one by one would take an hour): the directory has their size and indexes."""
    shared = passwords.hash_password(passwords.initial_password())
    now = time.time()
    with conn:
        conn.executemany(
            "INSERT INTO people (local_id, source, last_name, first_name, profile, created_at, "
            "updated_at) VALUES (?, 'local', ?, 'Test', ?, ?, ?)",
            ((f"{prefix}-{i}", f"{prefix}{i}", profile, now, now) for i in range(count)))
        conn.execute(
            "INSERT INTO accounts (person_id, login, password_hash, nt_hash, must_change, "
            "created_at) SELECT id, last_name, ?, NULL, 0, ? FROM people WHERE local_id LIKE ?",
            (shared, now, f"{prefix}-%"))
