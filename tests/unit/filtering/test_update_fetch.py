"""List updates over http (a local server in a thread) and the published checksums: UT1's
MD5SUM.LST listing, sha256sum files, bare digests; no redirect to another scheme, a size cap."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from appliance.errors import CarineError
from filtering.checksum import hex_digest, published_digest
from filtering.fetch import UpdateRefused, download
from filtering.index import Index
from filtering.update import Options, update
from tests.unit.filtering.listgen import ut1_archive

pytestmark = pytest.mark.unit

MD5 = "0123456789abcdef0123456789abcdef"
SHA = "ab" * 32
PROXIES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """An http server on 127.0.0.1 serving a folder (and /to-file, a redirect to file://)."""
    for name in PROXIES:
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "www"
    root.mkdir()

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/to-file":
                self.send_response(302)
                self.send_header("Location", "file:///etc/passwd")
                self.end_headers()
                return
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_update_from_http_checked_against_md5sum_lst(served: tuple[str, Path],
                                                     tmp_path: Path) -> None:
    url, root = served
    archive = ut1_archive(tmp_path / "src", {"adult": 1200, "vpn": 3})
    (root / "blacklists.tar.gz").write_bytes(archive.read_bytes())
    md5 = hashlib.md5(archive.read_bytes(), usedforsecurity=False).hexdigest()
    (root / "MD5SUM.LST").write_text(f"{MD5}  adult.tar.gz\n{md5}  blacklists.tar.gz\n"
                                     f"{MD5}  vpn.tar.gz\n", encoding="utf-8")
    index = tmp_path / "state" / "index.cidx"
    outcome = update(Options(f"{url}/blacklists.tar.gz", index,
                             checksum_url=f"{url}/MD5SUM.LST"))
    assert outcome.after is not None and outcome.after.checked == f"md5:{md5}"
    assert outcome.after.published  # the server's Last-Modified
    with Index.open(index) as opened:
        assert opened.lookup("vpn-a2.example") == {"vpn"}
    # a listing that does not give this archive's sum, or a wrong one, is refused
    (root / "MD5SUM.LST").write_text(f"{MD5}  adult.tar.gz\n{MD5}  vpn.tar.gz\n",
                                     encoding="utf-8")
    with pytest.raises(UpdateRefused, match=r"no line for blacklists\.tar\.gz"):
        update(Options(f"{url}/blacklists.tar.gz", index, checksum_url=f"{url}/MD5SUM.LST"))
    (root / "MD5SUM.LST").write_text(f"{MD5}  blacklists.tar.gz\n", encoding="utf-8")
    with pytest.raises(UpdateRefused, match=f"md5 is {md5}, .*MD5SUM.LST says {MD5}"):
        update(Options(f"{url}/blacklists.tar.gz", index, checksum_url=f"{url}/MD5SUM.LST"))


def test_no_redirect_to_another_scheme(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = served
    with pytest.raises(UpdateRefused, match="redirects to file:///etc/passwd"):
        download(f"{url}/to-file", tmp_path / "out")


def test_only_http_urls_are_fetched(tmp_path: Path) -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/blacklists.tar.gz"):
        with pytest.raises(CarineError, match="only http:// and https://"):
            update(Options(url, tmp_path / "index.cidx"))


def test_a_download_is_capped_and_errors_are_reported(served: tuple[str, Path],
                                                      tmp_path: Path) -> None:
    url, root = served
    (root / "big.tar.gz").write_bytes(b"x" * 5000)
    with pytest.raises(UpdateRefused, match="more than"):
        download(f"{url}/big.tar.gz", tmp_path / "out", limit=1000)
    with pytest.raises(CarineError, match=r"cannot download .*: HTTP 404 File not found") as error:
        download(f"{url}/nothing.tar.gz", tmp_path / "out")
    assert error.value.exit_code == 1  # a network error, not refused lists


@pytest.mark.parametrize(("text", "digest"), [
    (f"{MD5}  adult.tar.gz\n{SHA}  blacklists.tar.gz\n", SHA),  # sha256sum listing
    (f"{SHA} *blacklists.tar.gz\n", SHA),  # binary marker
    (f"# sums\n{MD5}  ./download/blacklists.tar.gz\n", MD5),  # a path: its name counts
    (f"MD5 (blacklists.tar.gz) = {MD5}\nMD5 (vpn.tar.gz) = {'f' * 32}\n", MD5),  # BSD style
    (f"{MD5.upper()}\n", MD5),  # a bare digest
    (f"{SHA}  other-name.tar.gz\n", SHA),  # one line: the file is the archive's own sum
])
def test_published_digests(text: str, digest: str) -> None:
    assert published_digest(text, frozenset({"blacklists.tar.gz"}), "sums") == digest


def test_published_digest_refusals() -> None:
    with pytest.raises(UpdateRefused, match="holds no digest"):
        published_digest("# nothing\n\n", frozenset({"a.tar.gz"}), "sums")
    with pytest.raises(UpdateRefused, match=r"no line for a.tar.gz \(it lists b, c\)"):
        published_digest(f"{MD5}  b\n{MD5}  c\n", frozenset({"a.tar.gz"}), "sums")
    with pytest.raises(CarineError, match="not an md5 or sha256"):
        published_digest("12345  a.tar.gz\n", frozenset({"a.tar.gz"}), "sums")


def test_hex_digest() -> None:
    assert hex_digest(f" {SHA.upper()} ") == SHA
    for bad in ("xyz", "0" * 40, ""):
        with pytest.raises(CarineError) as error:
            hex_digest(bad)
        assert "32 (md5) or 64 (sha256)" in (error.value.hint or "")
