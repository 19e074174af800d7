"""HTTP/1.1 as the probes speak it: the request (origin-form, or absolute-form for the proxy),
CONNECT, and reading an answer's head and body. Pure bytes in, values out."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

USER_AGENT = "carine-prober/1 (school network appliance; D-SUP-1)"
MAX_HEAD = 64 * 1024
MAX_BODY = 1024 * 1024  # enough for any login page; a larger page is read no further


@dataclass(frozen=True)
class Head:
    """Status and headers of an answer, and where its body starts in the buffer."""

    status: int
    headers: dict[str, str]
    body_start: int


def authority(url: str) -> tuple[str, int]:
    """Host and port the URL points at (default ports by scheme)."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return host if parts.port is None else f"{host}:{parts.port}"


def request(url: str, *, absolute: bool = False) -> bytes:
    """A GET for ``url``; ``absolute`` for a plain-HTTP request to an explicit proxy."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    if absolute:
        target = f"{parts.scheme}://{parts.netloc}{target}"
    return (f"GET {target} HTTP/1.1\r\nHost: {_host_header(url)}\r\n"
            f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\nAccept-Encoding: identity\r\n"
            "Connection: close\r\n\r\n").encode("ascii")


def connect(url: str) -> bytes:
    """The CONNECT that opens a tunnel through the proxy to the URL's host and port."""
    host, port = authority(url)
    return f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode("ascii")


def parse_head(buf: bytes) -> Head | None:
    """The head of an answer once it is complete in ``buf`` (None: read more)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > MAX_HEAD:
            raise ValueError("answer head too long")
        return None
    lines = buf[:end].decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    code = rest[:3]
    if not version.startswith("HTTP/") or not code.isdigit():
        raise ValueError(f"not an HTTP answer: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return Head(int(code), headers, end + 4)


def body_complete(head: Head, body: bytes) -> bool:
    """Whether the whole body is in (else read until the server closes)."""
    if head.status in (204, 304) or 100 <= head.status < 200:
        return True
    if "chunked" in head.headers.get("transfer-encoding", "").lower():
        return body.endswith(b"0\r\n\r\n")
    length = head.headers.get("content-length", "")
    return length.isdigit() and len(body) >= int(length)


def dechunk(body: bytes) -> bytes:
    """The payload of a chunked body (as much as is there: a cut body is not an error here)."""
    out, pos = bytearray(), 0
    while True:
        eol = body.find(b"\r\n", pos)
        if eol < 0:
            break
        try:
            size = int(body[pos:eol].split(b";")[0], 16)
        except ValueError:
            break
        if size == 0:
            break
        out += body[eol + 2:eol + 2 + size]
        pos = eol + 2 + size + 2
    return bytes(out)


def payload(head: Head, body: bytes) -> bytes:
    if "chunked" in head.headers.get("transfer-encoding", "").lower():
        return dechunk(body)
    return body
