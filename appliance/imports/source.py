"""Reading an import file safely: refuse it above a size limit before parsing, tell AAF XML
from CSV, decode CSV text (UTF-8, Windows-1252 or ISO-8859-15) as French spreadsheets save it."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from appliance.imports.codes import ImportRefused

MAX_MB = 64  # a lycée's full Eleve export is a few MB; 64 MB leaves a wide margin
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# Bytes ISO-8859-15 puts where Windows-1252 has other letters (€, Š, š, Ž, ž, Œ, œ, Ÿ).
_LATIN9_ONLY = frozenset(b"\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe")


def read_limited(path: Path, max_mb: int = MAX_MB) -> bytes:
    """The bytes of ``path``, refused before reading when larger than ``max_mb``."""
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise ImportRefused("IMP-101", str(path),
                                f"{size / 1048576:.1f} MB, more than the limit of {max_mb} MB")
        with path.open("rb") as handle:
            data = handle.read(max_mb * 1024 * 1024 + 1)
    except OSError as exc:
        raise ImportRefused("IMP-100", str(path), exc.strerror or str(exc)) from exc
    if len(data) > max_mb * 1024 * 1024:  # grew while we read it
        raise ImportRefused("IMP-101", str(path), f"more than the limit of {max_mb} MB")
    return data


def is_xml(data: bytes) -> bool:
    """Whether the bytes look like XML (an AAF file) rather than CSV text."""
    head = data[:256].lstrip(codecs.BOM_UTF8).lstrip()
    return head.startswith(b"<")


def check_xml_encoding(name: str, data: bytes) -> None:
    """Refuse a file whose bytes contradict its declared encoding.

    expat catches Latin-9 bytes in a UTF-8 file; the reverse (UTF-8 bytes in a file declared
    ISO-8859-15) parses silently into "HÃ©lÃ¨ne", so it is checked here: Latin-9 French text is
    never valid multi-byte UTF-8."""
    match = _DECLARED.match(data[:200])
    declared = match.group(1).decode("ascii").lower() if match else "utf-8"
    try:
        codec = codecs.lookup(declared).name
    except LookupError:
        raise ImportRefused("IMP-104", name, f"unknown encoding {declared!r} declared") from None
    if codec in ("iso8859-15", "iso8859-1", "cp1252") and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return
        raise ImportRefused("IMP-104", name, f"the file declares {declared.upper()} but its "
                            "bytes are UTF-8 (accents would come out garbled)")


def decode_text(name: str, data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding) of a CSV file: UTF-8 (with or without BOM) when it decodes as such, else
    ISO-8859-15 when it has bytes only that one uses, else Windows-1252."""
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportRefused("IMP-104", name, f"not {encoding}: {exc}") from None
    try:
        return _text(name, data.decode("utf-8").removeprefix("\ufeff")), "utf-8"
    except UnicodeDecodeError:
        pass
    high = set(data) - set(range(128))
    c1 = {b for b in high if 0x80 <= b <= 0x9F}
    chosen = "iso-8859-15" if high & _LATIN9_ONLY and not c1 else "cp1252"
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        raise ImportRefused("IMP-104", name, f"neither UTF-8 nor {chosen}: byte "
                            f"0x{data[exc.start]:02x} at offset {exc.start}") from None
    return _text(name, text), chosen


def _text(name: str, text: str) -> str:
    if "\x00" in text:
        raise ImportRefused("IMP-104", name, "binary content (NUL bytes): not a text file")
    return text
