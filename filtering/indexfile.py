"""The index file's layout: magic, version, JSON header, checksummed 8-byte aligned sections.

Written atomically beside its final place; mapped read-only (mmap) and verified when opened."""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from appliance.errors import CarineError
from appliance.files import write_atomic

MAGIC = b"CARINEIX"
FORMAT_VERSION = 2  # 2: the domain trie in shards (header "domain_shards")
READABLE_VERSIONS = (1, 2)  # 1: one domain trie; still read, never written
PREFIX = struct.Struct("<8sII")  # magic, format version, header length (all little-endian)
ALIGN = 8
SECTIONS = ("domain_trie", "domain_sets", "url_trie", "url_sets")
# Written when there is one, used when present: the sites filter (filtering/sitefilter.py) came
# within version 2, as readers look sections up by name and ignore those they do not know.
OPTIONAL_SECTIONS = ("domain_sites",)


def _padding(length: int) -> bytes:
    return b"\0" * (-length % ALIGN)


def _replace(out: Path, parts: list[bytes]) -> None:
    """A reader opens the old file or the new one, never a part of one; the helpers run as
    Squid's user, not root, hence 0644."""
    write_atomic(out, parts, mode=0o644)


def write_index(out: Path, header: dict[str, Any], sections: dict[str, bytes]) -> int:
    """Write the index at ``out`` atomically and return its size in bytes.

    The header gets the sections' places and the checksum of everything after it. The header is
    padded with spaces (still JSON) so that the data, and each section, starts 8-byte aligned:
    marisa maps a trie in place and the set arrays are read as uint16 without a copy."""
    places, parts, offset = {}, [], 0
    digest = hashlib.sha256()
    for name in (*SECTIONS, *(n for n in OPTIONAL_SECTIONS if n in sections)):
        data = sections[name]
        places[name] = [offset, len(data)]
        for part in (data, _padding(len(data))):
            digest.update(part)
            parts.append(part)
            offset += len(part)
    header = {**header, "format": FORMAT_VERSION, "sections": places, "data_length": offset,
              "sha256": digest.hexdigest()}
    text = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-(PREFIX.size + len(text)) % ALIGN)
    try:
        _replace(out, [PREFIX.pack(MAGIC, FORMAT_VERSION, len(text)) + text, *parts])
    except OSError as exc:
        raise CarineError(f"cannot write index {out}: {exc.strerror or exc}",
                          "check the directory exists, is writable and has room; the previous "
                          "index, if any, is untouched") from exc
    return PREFIX.size + len(text) + offset


@dataclass
class Mapped:
    """An index file mapped read-only: its header and the data after it (no copy)."""

    file: BinaryIO
    map: mmap.mmap
    header: dict[str, Any]
    data: memoryview

    def section(self, name: str) -> memoryview:
        offset, length = self.header["sections"][name]
        return self.data[offset:offset + length]


def _corrupt(path: Path, why: str) -> CarineError:
    return CarineError(f"index {path} is corrupt: {why}",
                       f"compile it again: carine filter compile --lists DIR --out {path}")


def _check_header(path: Path, header: Any, data_length: int) -> dict[str, Any]:
    if not isinstance(header, dict) or header.get("format") not in READABLE_VERSIONS:
        raise _corrupt(path, "header format does not match the file's version")
    try:
        places = [header["sections"][name] for name in SECTIONS]
        declared = header["data_length"]
        valid = isinstance(header["categories"], list) and isinstance(header["sha256"], str)
    except (KeyError, TypeError):
        valid = False
    if not valid:
        raise _corrupt(path, "header lacks sections, categories or checksum")
    if declared != data_length:
        raise _corrupt(path, f"truncated ({data_length} data bytes, header says {declared})")
    optional = [header["sections"][name] for name in OPTIONAL_SECTIONS
                if name in header["sections"]]
    for offset, length in places + optional:
        if offset % ALIGN or offset < 0 or length < 0 or offset + length > data_length:
            raise _corrupt(path, "a section lies outside the file")
    return header


def _digest(file: BinaryIO, start: int) -> str:
    """The checksum of the data, read with read() rather than through the map: the pages stay
    in the page cache without counting in the helper's resident memory until a lookup needs
    them (a helper touches a small part of a 5M-domain index)."""
    file.seek(start)
    digest = hashlib.sha256()
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def map_index(path: Path, verify: bool = True) -> Mapped:
    """Map the index at ``path``, checking magic, version, sizes and (if ``verify``) checksum."""
    try:
        file = path.open("rb")
    except FileNotFoundError as exc:
        raise CarineError(f"index {path} does not exist",
                          f"compile it: carine filter compile --lists DIR --out {path}") from exc
    except OSError as exc:
        raise CarineError(f"index {path} cannot be read: {exc.strerror}") from exc
    try:
        size = os.fstat(file.fileno()).st_size
        if size < PREFIX.size:
            raise _corrupt(path, f"truncated ({size} bytes)")
        magic, version, header_length = PREFIX.unpack(file.read(PREFIX.size))
        if magic != MAGIC:
            raise CarineError(f"index {path} is not a CARINE index (bad magic {magic!r})",
                              "give the file written by carine filter compile")
        if version not in READABLE_VERSIONS:
            raise CarineError(
                f"index {path} has format version {version}; this CARINE reads version "
                f"{FORMAT_VERSION}", f"compile it again: carine filter compile --out {path}")
        start = PREFIX.size + header_length
        if start > size:
            raise _corrupt(path, f"truncated inside the header ({size} bytes)")
        try:
            header = json.loads(file.read(header_length))
        except (ValueError, UnicodeDecodeError) as exc:
            raise _corrupt(path, "unreadable header") from exc
        header = _check_header(path, header, size - start)
        if verify and _digest(file, start) != header["sha256"]:
            raise _corrupt(path, "checksum mismatch")
        view = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        return Mapped(file, view, header, memoryview(view)[start:])
    except BaseException:
        file.close()
        raise
