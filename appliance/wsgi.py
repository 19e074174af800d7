"""Serving a WSGI application (the block page; later the console and the portal) with cheroot
until SIGTERM or SIGINT, and the secret key file that keeps sessions valid across restarts."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cheroot.wsgi import Server

from appliance.errors import CarineError

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger("carine.wsgi")
MIN_SECRET = 32
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# cheroot's default listen backlog is 5: a burst of clients (a class logging in to the portal)
# overflows it and each dropped SYN costs the client a 1 s (then 3 s) retransmission.
BACKLOG = 256


def serve(app: WSGIApplication, bind: str, port: int, *, threads: int = 8,
          backlog: int = BACKLOG, tls: Path | None = None,
          also: Sequence[str] = ()) -> None:
    """Serve ``app`` on ``bind``:``port`` (and on each address of ``also``, same port) until
    SIGTERM or SIGINT, then stop cleanly: the listening sockets close at once and requests in
    flight get a few seconds to finish. ``tls``: one PEM file with key and certificate."""
    # server_name is also the Server header: no version for a scanner to match.
    servers = [Server((address, port), app, numthreads=threads, server_name="carine",
                      shutdown_timeout=5, request_queue_size=backlog)
               for address in (bind, *also)]
    if tls is not None:
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        for server in servers:
            server.ssl_adapter = BuiltinSSLAdapter(str(tls), str(tls))
    # The kernel hands a process signal to any thread that does not block it; CPython then only
    # flags it for the main thread, which may sleep on a lock forever. So the signals are
    # blocked before cheroot starts its threads (they inherit the mask) and the main thread
    # takes them synchronously with sigwait: no handler, no polling while idle.
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    stopping = threading.Event()
    workers: list[threading.Thread] = []
    try:
        for server in servers:
            address = server.bind_addr
            try:
                server.prepare()
            except OSError as exc:
                raise CarineError(f"cannot listen on {address[0]}:{port}: {exc}",
                                  "is the port already used, or the address not this "
                                  "machine's?") from exc
            log.info("listening on %s:%d%s", address[0], port, " (TLS)" if tls else "")
        for server in servers:
            worker = threading.Thread(target=_serve, args=(server, stopping), name="cheroot")
            worker.start()
            workers.append(worker)
        signal.sigwait(STOP_SIGNALS)
        log.info("stopping")
    finally:
        stopping.set()
        for server in servers:
            server.stop()
        for worker in workers:
            worker.join()
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _serve(server: Server, stopping: threading.Event) -> None:
    try:
        server.serve()
    finally:
        if not stopping.is_set():  # cheroot ended on its own: wake the main thread to end too
            os.kill(os.getpid(), signal.SIGTERM)


def secret_key(path: Path) -> str:
    """The secret key kept in ``path`` (mode 0600), created with a random one if absent."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise CarineError(f"cannot create the secret file {path}: {exc}",
                          "check that its directory exists and is writable") from exc
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        log.info("new secret key written to %s", path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError) as exc:
        raise CarineError(f"cannot read the secret file {path}: {exc}",
                          "check its owner and mode (0600)") from exc
    if mode & 0o077:
        raise CarineError(f"the secret file {path} is readable by others "
                          f"(mode {mode & 0o777:o})", f"chmod 600 {path}")
    if len(text) < MIN_SECRET:
        raise CarineError(f"the secret file {path} holds no usable secret "
                          f"(at least {MIN_SECRET} characters)",
                          "remove it: a new one is made at the next start")
    return text
