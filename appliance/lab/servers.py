"""Servers of the lab's hosts: the simulated internet's web (HTTP and HTTPS with a lab CA, any
name), and small TCP/UDP services that say who they are: ``python -m appliance.lab.servers``."""

from __future__ import annotations

import argparse
import signal
import socketserver
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class CertificateMint:
    """Certificates for any server name, signed by the lab CA, made on first use (SNI)."""

    def __init__(self, ca_dir: Path, workdir: Path) -> None:
        # Only the web server mints certificates: clients' services stay light without these.
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        cert = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        self.ca = (cert, key)
        self.workdir = workdir
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.lock = threading.Lock()

    def context(self, name: str) -> ssl.SSLContext:
        from appliance.tls import issue, pem, write_private

        with self.lock:
            if name not in self.contexts:
                cert, key = issue(name, [name], self.ca, days=30)
                path = self.workdir / f"{name}.pem"
                write_private(path, pem(cert, key))
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(path)
                self.contexts[name] = ctx
            return self.contexts[name]

    def server_context(self, default_name: str) -> ssl.SSLContext:
        ctx = self.context(default_name)

        def pick(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
            if name:
                sock.context = self.context(name.lower())

        ctx.sni_callback = pick
        return ctx


class Page(BaseHTTPRequestHandler):
    """Answers every GET with one line naming the virtual host, scheme and the client seen;
    hosts given a folder (the list mirror) serve its files instead."""

    server_version = "carine-wan"
    sys_version = ""
    static: dict[str, Path] = {}  # noqa: RUF012 - set once at start, read by every handler

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "-").split(":")[0]
        if host in self.static:
            self._file(self.static[host])
            return
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        body = (f"carine-wan host={host} scheme={scheme} path={self.path} "
                f"client={self.client_address[0]}\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _file(self, root: Path) -> None:
        relative = Path(self.path.split("?", 1)[0].lstrip("/"))
        target = (root / relative).resolve()
        if root.resolve() not in target.parents or not target.is_file():
            self.send_error(404)
            return
        data = target.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        sys.stdout.write(f"{self.client_address[0]} {format % args}\n")
        sys.stdout.flush()


class WebServer(ThreadingHTTPServer):
    """The lab's web server: a listen backlog for a class of clients at once, not the default
    5 (each refused SYN costs a client a one-second retransmit)."""

    request_queue_size = 256
    daemon_threads = True


class TlsHTTPServer(WebServer):
    """HTTPS whose handshake runs in the request's thread, so a slow client blocks nobody."""

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext) -> None:
        super().__init__(address, Page)
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


class NamedTCP(socketserver.ThreadingTCPServer):
    """A TCP service that knows which node and port it stands for."""

    def __init__(self, node: str, bind: str, port: int) -> None:
        self.node, self.port = node, port
        super().__init__((bind, port), Banner)


class NamedUDP(socketserver.ThreadingUDPServer):
    """A UDP service that knows which node and port it stands for."""

    def __init__(self, node: str, bind: str, port: int) -> None:
        self.node, self.port = node, port
        super().__init__((bind, port), Echo)


class Banner(socketserver.BaseRequestHandler):
    """TCP: say who we are, then echo one line back."""

    server: NamedTCP

    def handle(self) -> None:
        self.request.sendall(f"carine-{self.server.node} tcp/{self.server.port}\n".encode())
        self.request.settimeout(5)
        try:
            data = self.request.recv(1024)
        except OSError:
            return
        if data:
            self.request.sendall(data)


class Echo(socketserver.BaseRequestHandler):
    """UDP: answer every datagram with who we are and what came in."""

    server: NamedUDP

    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(f"carine-{self.server.node} udp/{self.server.port} ".encode() + data,
                    self.client_address)


def _serve(server: socketserver.BaseServer) -> None:
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--node", required=True)
    p.add_argument("--bind", default="0.0.0.0")  # noqa: S104 - inside a lab namespace
    p.add_argument("--web", action="store_true", help="serve HTTP on 80 and HTTPS on 443")
    p.add_argument("--ca", type=Path, help="folder with ca.pem and ca.key (for --web)")
    p.add_argument("--certs", type=Path, help="folder for minted certificates (for --web)")
    p.add_argument("--static", action="append", default=[], metavar="HOST=DIR",
                   help="serve the files of DIR for virtual host HOST (the list mirror)")
    p.add_argument("--tcp", type=int, action="append", default=[])
    p.add_argument("--udp", type=int, action="append", default=[])
    args = p.parse_args(argv)
    socketserver.TCPServer.allow_reuse_address = True
    servers: list[socketserver.BaseServer] = []
    Page.static = {host: Path(folder) for host, folder in
                   (item.split("=", 1) for item in args.static)}
    if args.web:
        args.certs.mkdir(parents=True, exist_ok=True)
        mint = CertificateMint(args.ca, args.certs)
        servers.append(WebServer((args.bind, 80), Page))
        servers.append(TlsHTTPServer((args.bind, 443), mint.server_context("www.example.org")))
    servers += [NamedTCP(args.node, args.bind, port) for port in args.tcp]
    servers += [NamedUDP(args.node, args.bind, port) for port in args.udp]
    for server in servers:
        _serve(server)
    print(f"carine-{args.node}: serving", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    return 0  # the serving threads are daemons: they end with us


if __name__ == "__main__":
    sys.exit(main())
