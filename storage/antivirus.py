"""ClamAV on upload (D-STO-2): each PUT body is streamed to clamd (INSTREAM) while it is
written beside its target; an infected upload is refused (403, the signature named), counted
and recorded, and never renamed in. When clamd does not answer, uploads are refused (503):
fail closed, never a file stored unscanned."""

from __future__ import annotations

import logging
import socket
import struct
import threading
from typing import Any

from wsgidav.dav_error import HTTP_FORBIDDEN, DAVError

log = logging.getLogger("carine.storage")
HTTP_SERVICE_UNAVAILABLE = 503
TIMEOUT = 30.0


class Infected(DAVError):  # type: ignore[misc]
    def __init__(self, signature: str) -> None:
        super().__init__(HTTP_FORBIDDEN, f"Virus détecté, fichier refusé / virus found, file "
                         f"refused: {signature}")
        self.signature = signature


class Unavailable(DAVError):  # type: ignore[misc]
    def __init__(self, why: str) -> None:
        super().__init__(HTTP_SERVICE_UNAVAILABLE, "Antivirus indisponible : dépôt refusé, "
                         f"réessayez plus tard / antivirus unavailable, upload refused ({why})")


class Session:
    """One upload's scan: chunks go to clamd as they come; ``verdict`` raises or says clean."""

    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        self.sent = 0
        self.error: str | None = None
        self.sock: socket.socket | None = None
        try:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(TIMEOUT)
            self.sock.connect(scanner.path)
            self.sock.sendall(b"zINSTREAM\0")
        except OSError as exc:
            self.error = f"clamd: {exc.strerror or exc}"
            self._close()

    def _close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def feed(self, data: bytes) -> None:
        if self.error is not None or not data:
            return
        self.sent += len(data)
        if self.sent > self.scanner.max_bytes:
            self.error = f"larger than the {self.scanner.max_bytes} bytes the antivirus scans"
            self._close()
            return
        assert self.sock is not None
        try:
            self.sock.sendall(struct.pack("!I", len(data)) + data)
        except OSError as exc:
            self.error = f"clamd: {exc.strerror or exc}"
            self._close()

    def verdict(self) -> bool:
        """True when clean; Infected or Unavailable otherwise (the caller drops the file)."""
        if self.error is None and self.sock is not None:
            try:
                self.sock.sendall(struct.pack("!I", 0))
                reply = b""
                while not reply.endswith(b"\0"):
                    part = self.sock.recv(4096)
                    if not part:
                        break
                    reply += part
            except OSError as exc:
                self.error = f"clamd: {exc.strerror or exc}"
                reply = b""
            finally:
                self._close()
            answer = reply.rstrip(b"\0").decode("utf-8", "replace")
            if answer.endswith(" FOUND"):
                signature = answer.removeprefix("stream: ").removesuffix(" FOUND")
                self.scanner.counters.add("virus")
                raise Infected(signature)
            if answer.endswith(" OK"):
                return True
            self.error = self.error or f"clamd answered {answer!r}"
        self.scanner.counters.add("antivirus-unavailable")
        raise Unavailable(self.error or "clamd")


class Scanner:
    def __init__(self, path: str, max_bytes: int, counters: Any) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.counters = counters
        self._lock = threading.Lock()

    def session(self) -> Session:
        return Session(self)

    def ping(self) -> bool:
        """Whether clamd answers PING (the health check and the metric)."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(5)
                sock.connect(self.path)
                sock.sendall(b"zPING\0")
                return sock.recv(64).startswith(b"PONG")
        except OSError:
            return False
