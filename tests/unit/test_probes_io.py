"""The prober's I/O against servers started on 127.0.0.1 (resolver; HTTPS good, slow, expired,
wrong name, untrusted; plain HTTP; a proxy; a refused port), then the daemon, also by SIGTERM."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import select
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.message
import dns.rcode
import dns.rrset
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.run import spawn
from appliance.tls import issue, pem, write_private
from monitoring.probes.config import Endpoint, ProberConfig, TargetSpec
from monitoring.probes.daemon import Daemon
from monitoring.probes.results import Check, from_doc
from monitoring.probes.runner import Prober

pytestmark = pytest.mark.unit

KNOWN = {"good.test", "slow.test", "expired.test", "wrong.test", "rogue.test"}
SLOW = 3.0  # the slow server answers after this; the probes give up after 1 s


# --- servers -----------------------------------------------------------------------------------


def _expired(ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], name: str) -> Any:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca[0].subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now - dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(ca[1], hashes.SHA256()))
    return cert, key


class Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        if host == "slow.test":
            time.sleep(SLOW)
        body = (b"<form id=login>" if self.path == "/login" else b"<h1>Bienvenue sur l'ENT</h1>")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Https(ThreadingHTTPServer):
    def __init__(self, contexts: dict[str, ssl.SSLContext]) -> None:
        super().__init__(("127.0.0.1", 0), Page)
        self.ctx = contexts["good.test"]
        self.ctx.sni_callback = lambda sock, name, _: setattr(
            sock, "context", contexts.get(name or "", self.ctx))

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # probes that give up (timeouts, refused certificates) hang up on purpose

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


class Resolver(threading.Thread):
    """A DNS server that knows the test's names (127.0.0.1) and nothing else (NXDOMAIN)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]

    def run(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            answer = dns.message.make_response(query)
            name = query.question[0].name.to_text().rstrip(".")
            if name in KNOWN:
                answer.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "A",
                                                         "127.0.0.1"))
            else:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(answer.to_wire(), peer)


class Proxy(socketserver.ThreadingTCPServer):
    """An explicit proxy: CONNECT tunnels and absolute-form GETs, to 127.0.0.1 for known names."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Tunnel)


class Tunnel(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target, _ = head.split(b"\r\n")[0].decode().split(" ")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
        else:
            host, _, port_path = target.removeprefix("http://").partition(":")
            port, _, path = port_path.partition("/")
            head = head.replace(target.encode(), f"/{path}".encode(), 1)
        if host not in KNOWN:
            self.request.sendall(b"HTTP/1.1 503 Service Unavailable\r\n\r\n")
            return
        upstream = socket.create_connection(("127.0.0.1", int(port)))
        if method == "CONNECT":
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:
            upstream.sendall(head)
        self._pipe(upstream)

    def _pipe(self, upstream: socket.socket) -> None:
        with upstream:
            ends = [self.request, upstream]
            while True:
                ready, _, _ = select.select(ends, [], [], 10)
                if not ready:
                    return
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is self.request else self.request).sendall(data)


def _serve(server: socketserver.BaseServer) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


class World:
    """Everything the probes talk to, with the ports they got."""

    def __init__(self, tmp: Path) -> None:
        ca = issue("probe test CA", [], is_ca=True, days=30)
        self.ca_file = tmp / "ca.pem"
        self.ca_file.write_bytes(pem(ca[0]))
        leaves = {name: issue(name, [name], ca) for name in ("good.test", "slow.test")}
        leaves["wrong.test"] = issue("other.test", ["other.test"], ca)
        leaves["expired.test"] = _expired(ca, "expired.test")
        leaves["rogue.test"] = issue("rogue.test", ["rogue.test"])  # self-signed
        self.expired_at = leaves["expired.test"][0].not_valid_after_utc.timestamp()
        contexts = {}
        for name, (cert, key) in leaves.items():
            path = tmp / f"{name}.pem"
            write_private(path, pem(cert, key))
            contexts[name] = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            contexts[name].load_cert_chain(path)
        self.https, self.http, self.proxy = Https(contexts), ThreadingHTTPServer(
            ("127.0.0.1", 0), Page), Proxy()
        self.resolver = Resolver()
        self.resolver.start()
        for server in (self.https, self.http, self.proxy):
            _serve(server)
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            self.refused = s.getsockname()[1]

    def url(self, name: str, path: str = "/") -> str:
        return f"https://{name}:{self.https.server_address[1]}{path}"

    def config(self, tmp: Path, targets: tuple[TargetSpec, ...] = ()) -> ProberConfig:
        return ProberConfig(
            results=tmp / "run/monitoring/probes.json", pidfile=tmp / "run/prober.pid",
            concurrency=4, resolver=Endpoint("127.0.0.1", self.resolver.port),
            upstream=Endpoint("127.0.0.1", self.resolver.port),
            proxy=Endpoint("127.0.0.1", self.proxy.server_address[1]), gateway=None,
            gateway_ping=False, targets=targets, ca_file=str(self.ca_file))

    def close(self) -> None:
        for server in (self.https, self.http, self.proxy):
            server.shutdown()
            server.server_close()
        self.resolver.sock.close()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("world"))
    yield w
    w.close()


def target(url: str, **kw: Any) -> TargetSpec:
    return replace(TargetSpec("ent", url, ("direct", "proxy"), 60, 1, 1.0), **kw)


def probe(world: World, tmp: Path, t: TargetSpec, path: str = "direct") -> dict[str, Check]:
    async def go() -> list[Check]:
        with ThreadPoolExecutor(1) as pool:
            prober = Prober(world.config(tmp), pool)
            return await (prober.dns(t) if path == "dns" else prober.path(t, path))
    rows = asyncio.run(go())
    return {f"{r.check}{'' if r.target == t.url else ':' + r.target}": r for r in rows} \
        if path != "dns" else {r.path: r for r in rows}


# --- probes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["direct", "proxy"])
def test_a_good_https_page_passes_every_check_on_both_paths(world: World, tmp_path: Path,
                                                             path: str) -> None:
    rows = probe(world, tmp_path, target(world.url("good.test"), expect="Bienvenue",
                                         login_path="/login", login_expect="id=login"), path)
    login = f"http:{world.url('good.test', '/login')}"
    assert {k: r.success for k, r in rows.items()} == {"tcp": True, "tls": True, "http": True,
                                                        login: True}, rows
    tls, http = rows["tls"], rows["http"]
    assert tls.chain_valid and tls.name_match
    assert tls.tls_expiry is not None and tls.tls_expiry > time.time() + 29 * 86400
    assert http.status == 200 and http.first_byte is not None and http.duration is not None
    assert 0 < http.first_byte <= http.duration < 1.0 and http.meets_objective()
    assert rows["tcp"].path == path


def test_plain_http_through_the_proxy_uses_the_absolute_form(world: World, tmp_path: Path) -> None:
    url = f"http://good.test:{world.http.server_address[1]}/"
    rows = probe(world, tmp_path, target(url, expect="Bienvenue"), "proxy")
    assert list(rows) == ["tcp", "http"] and rows["http"].success and rows["http"].status == 200


def test_a_missing_text_fails_the_page_but_not_the_connection(world: World,
                                                             tmp_path: Path) -> None:
    rows = probe(world, tmp_path, target(world.url("good.test"), expect="Pronote"))
    assert rows["tls"].success and not rows["http"].success
    assert rows["http"].error == "the page does not contain 'Pronote'"


def test_a_slow_server_times_out_after_tcp_and_tls_succeeded(world: World,
                                                             tmp_path: Path) -> None:
    began = time.monotonic()
    rows = probe(world, tmp_path, target(world.url("slow.test")))
    assert time.monotonic() - began < SLOW
    assert rows["tcp"].success and rows["tls"].success
    assert not rows["http"].success and rows["http"].error == "no answer within 1s"


def test_an_expired_certificate_fails_tls_and_still_tells_its_expiry(world: World,
                                                                     tmp_path: Path) -> None:
    for path in ("direct", "proxy"):
        rows = probe(world, tmp_path, target(world.url("expired.test")), path)
        tls = rows["tls"]
        assert not tls.success and "expired" in (tls.error or "")
        assert tls.tls_expiry == world.expired_at and tls.chain_valid and tls.name_match
        assert rows["http"].error == "not reached (tls failed)"


def test_a_certificate_for_another_name_fails_on_the_name(world: World, tmp_path: Path) -> None:
    tls = probe(world, tmp_path, target(world.url("wrong.test")))["tls"]
    assert not tls.success and "mismatch" in (tls.error or "").lower()
    assert tls.name_match is False and tls.chain_valid is True


def test_an_untrusted_certificate_fails_on_the_chain(world: World, tmp_path: Path) -> None:
    tls = probe(world, tmp_path, target(world.url("rogue.test")))["tls"]
    assert not tls.success and tls.chain_valid is False and tls.name_match is True


def test_a_refused_port_fails_tcp_and_everything_after(world: World, tmp_path: Path) -> None:
    rows = probe(world, tmp_path, target(f"https://good.test:{world.refused}/"))
    assert not rows["tcp"].success and "connection refused" in (rows["tcp"].error or "")
    assert rows["tls"].error == rows["http"].error == "not reached (tcp failed)"
    through = probe(world, tmp_path, target(f"https://good.test:{world.refused}/"), "proxy")
    assert not through["tcp"].success


def test_a_name_that_does_not_resolve_fails_dns_and_the_direct_path(world: World,
                                                                    tmp_path: Path) -> None:
    t = target("https://absent.test/")
    dns_rows = probe(world, tmp_path, t, "dns")
    assert set(dns_rows) == {"appliance", "upstream"}
    assert all(not r.success and "NXDOMAIN" in (r.error or "") for r in dns_rows.values())
    assert dns_rows["appliance"].target == "absent.test"
    rows = probe(world, tmp_path, t)
    assert not rows["tcp"].success and (rows["tcp"].error or "").startswith("DNS: ")
    assert not probe(world, tmp_path, t, "proxy")["tcp"].success  # the proxy says 503
    good = probe(world, tmp_path, target(world.url("good.test")), "dns")
    assert good["appliance"].success and good["appliance"].duration is not None


def test_a_silent_resolver_times_out(world: World, tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        config = replace(world.config(tmp_path),
                         resolver=Endpoint("127.0.0.1", silent.getsockname()[1]), upstream=None)

        async def go() -> list[Check]:
            with ThreadPoolExecutor(1) as pool:
                return await Prober(config, pool).dns(target("https://good.test/"))
        (row,) = asyncio.run(go())
    assert not row.success and row.error is not None and "no answer" in row.error


# --- the daemon --------------------------------------------------------------------------------


def test_the_daemon_writes_a_round_of_results_and_stops(world: World, tmp_path: Path) -> None:
    config = world.config(tmp_path, (target(world.url("good.test"), interval=10),
                                     target(world.url("slow.test"), name="slow", interval=10)))

    async def go() -> Daemon:
        with ThreadPoolExecutor(1) as pool:
            daemon = Daemon(config, Prober(config, pool), random.Random(3))
            task = asyncio.create_task(daemon.serve())
            deadline = time.monotonic() + 15
            while len(daemon.latest) < len(daemon.jobs) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            daemon.stop()
            await asyncio.wait_for(task, 5)
            return daemon

    daemon = asyncio.run(go())
    assert daemon.rounds >= 1
    rows = {(c.service, c.check, c.path): c for c in from_doc(json.loads(
        config.results.read_text()))}
    assert rows[("ent", "http", "proxy")].success and rows[("ent", "dns", "upstream")].success
    assert not rows[("slow", "http", "direct")].success


def test_carine_prober_runs_from_its_config_and_stops_on_sigterm(world: World,
                                                                 tmp_path: Path) -> None:
    t = target(world.url("good.test"))
    # A whole monitoring.json, as rendered: the prober reads it through its model.
    doc = {"uai": "0691234X", "port": 9100, "user": "x", "password_hash": "x",
           "state": str(tmp_path), "log": str(tmp_path), "manifest": str(tmp_path / "m.json"),
           "daemons": [], "run": str(tmp_path / "run"), "probes": {
        "results": str(tmp_path / "run/monitoring/probes.json"), "concurrency": 2,
        "ca_file": str(world.ca_file), "resolver": {"address": "127.0.0.1",
                                                    "port": world.resolver.port},
        "upstream": None, "proxy": None, "gateway": None, "gateway_ping": False,
        "targets": [{**t.__dict__, "paths": ["direct"]}]}}
    config = tmp_path / "monitoring.json"
    config.write_text(json.dumps(doc))
    program = Path(sys.executable).parent / "carine-prober"
    pid = spawn([str(program), "--config", str(config)], logfile=tmp_path / "prober.log")
    results = tmp_path / "run/monitoring/probes.json"
    deadline = time.monotonic() + 20
    while not results.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert results.exists(), (tmp_path / "prober.log").read_text()
    assert (tmp_path / "run/monitoring/prober.pid").read_text().strip() == str(pid)
    os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (tmp_path / "prober.log").read_text()
    assert not (tmp_path / "run/monitoring/prober.pid").exists()
    assert "stopped" in (tmp_path / "prober.log").read_text()
