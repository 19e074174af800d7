"""Get the lists an update asks for: download an http(s) URL (bounded in time and size, never
redirected to another scheme), or take a local archive or folder as it is."""

from __future__ import annotations

import ssl
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.client import HTTPMessage
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urljoin, urlsplit

from appliance.errors import CarineError

MAX_DOWNLOAD = 256 << 20  # UT1's blacklists.tar.gz is a few tens of MB; more is not the lists
MAX_SUMS = 1 << 20  # a checksum file or MD5SUM.LST listing
TIMEOUT = 60.0  # seconds without progress before a download is given up
DEADLINE = 1800.0  # seconds for a whole download: a trickling server must not hold the lock
CHUNK = 1 << 20
SCHEMES = ("http", "https")


class UpdateRefused(CarineError):
    """New lists we will not switch to (bad checksum, unreadable archive, too small): the
    current index stays as it is and keeps serving."""

    exit_code = 2


@dataclass(frozen=True)
class Obtained:
    """The lists on local disk: an archive (``is_dir`` False) or a folder."""

    path: Path
    names: frozenset[str]  # the archive's file names, to find it in a checksum listing
    published: str | None  # the server's Last-Modified, or the local file's time
    is_dir: bool = False


class _SameSchemes(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only, and never from https down to http (a list archive is
    then no longer protected against tampering on the way)."""

    def http_error_302(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                       headers: HTTPMessage) -> Any:
        # Checked before urllib's own handling, which would also follow ftp:// (and reports
        # file:// as a plain HTTP error): a refusal here names the place it wanted to go.
        target = headers.get("Location") or headers.get("URI")
        if target:
            new = urljoin(req.full_url, target)
            old_scheme, new_scheme = urlsplit(req.full_url).scheme, urlsplit(new).scheme.lower()
            if new_scheme not in SCHEMES or (old_scheme == "https" and new_scheme == "http"):
                raise UpdateRefused(f"{req.full_url} redirects to {new}: refused",
                                    "lists are fetched over http(s) only, never downgraded")
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand: urllib's default opener also serves file://, ftp:// and data: URLs.
    opener = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(),  # an académie proxy, from http(s)_proxy
                    urllib.request.HTTPHandler(),
                    urllib.request.HTTPSHandler(context=ssl.create_default_context()),
                    _SameSchemes(), urllib.request.HTTPDefaultErrorHandler(),
                    urllib.request.HTTPErrorProcessor()):
        opener.add_handler(handler)
    return opener


def is_url(source: str) -> bool:
    return "://" in source


def _check_url(url: str) -> None:
    if urlsplit(url).scheme.lower() not in SCHEMES:
        raise CarineError(f"{url}: only http:// and https:// URLs are fetched",
                          "or give a local archive or folder")


def _name(url: str) -> str:
    return PurePosixPath(unquote(urlsplit(url).path)).name


def _why(exc: Exception) -> str:
    if isinstance(exc, HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    return str(exc.reason if isinstance(exc, URLError) else exc)


def _copy(response: Any, out: IO[bytes], url: str, limit: int) -> None:
    length = response.headers.get("Content-Length")
    if length and length.isdigit() and int(length) > limit:
        raise UpdateRefused(f"{url} is {int(length) >> 20} MB, more than the {limit >> 20} MB "
                            "a list archive may be")
    total, deadline = 0, time.monotonic() + DEADLINE
    while chunk := response.read(CHUNK):
        total += len(chunk)
        if total > limit:
            raise UpdateRefused(f"{url} is more than the {limit >> 20} MB a list archive may be")
        if time.monotonic() > deadline:
            raise CarineError(f"{url}: download not finished after {DEADLINE:.0f} s",
                              "check the uplink, or try again later")
        out.write(chunk)


def download(url: str, out: Path, *, timeout: float = TIMEOUT,
             limit: int = MAX_DOWNLOAD) -> Obtained:
    """Download ``url`` into the file ``out``."""
    _check_url(url)
    try:
        with _opener().open(url, timeout=timeout) as response, out.open("wb") as file:
            final = response.geturl()
            _copy(response, file, url, limit)
            modified = response.headers.get("Last-Modified")
    except (URLError, OSError, ValueError) as exc:  # HTTPError is a URLError
        raise CarineError(f"cannot download {url}: {_why(exc)}",
                          "check the URL and the appliance's internet access") from exc
    published = None
    if modified:
        try:
            published = parsedate_to_datetime(modified).astimezone(UTC).isoformat()
        except (TypeError, ValueError):
            published = None  # a server's odd date must not cost the lists
    return Obtained(out, frozenset({_name(url), _name(final)} - {""}), published)


def read_text(source: str, *, timeout: float = TIMEOUT, limit: int = MAX_SUMS) -> str:
    """The text at a URL or in a local file (a published checksum)."""
    if not is_url(source):
        try:
            with Path(source).open("rb") as file:
                return file.read(limit).decode("utf-8", errors="replace")
        except OSError as exc:
            raise CarineError(f"cannot read {source}: {exc.strerror}") from exc
    _check_url(source)
    try:
        with _opener().open(source, timeout=timeout) as response:
            data: bytes = response.read(limit + 1)
    except (URLError, OSError, ValueError) as exc:
        raise CarineError(f"cannot download {source}: {_why(exc)}",
                          "check the URL and the appliance's internet access") from exc
    if len(data) > limit:
        raise UpdateRefused(f"{source} is more than {limit >> 10} KB: not a checksum file")
    return data.decode("utf-8", errors="replace")


def obtain(source: str, work: Path, *, timeout: float = TIMEOUT) -> Obtained:
    """The lists named by ``source``: a URL downloaded into ``work``, or a local path."""
    if is_url(source):
        # A fixed local name: the URL's own is untrusted ("..") and tarfile reads the content.
        return download(source, work / "download.archive", timeout=timeout)
    path = Path(source)
    if path.is_dir():
        return Obtained(path, frozenset(), None, is_dir=True)
    if not path.is_file():
        raise CarineError(f"{source}: no such archive or folder",
                          "give an http(s) URL, a .tar.gz/.tar.xz archive or a UT1 folder")
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return Obtained(path, frozenset({path.name}), when)
