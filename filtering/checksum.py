"""Check a list archive against its published digest: a hex digest given by hand, or a checksum
file (a bare digest, or an ``MD5SUM.LST`` / ``sha256sum`` listing with a line for the archive).

UT1 publishes MD5 sums: they catch a truncated or mixed-up download, not a forgery (https does
that); sha256 is used whenever the digest given is one. The algorithm follows the length."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from appliance.errors import CarineError
from filtering.fetch import UpdateRefused

ALGORITHMS = {32: "md5", 64: "sha256"}
_HEX = re.compile(r"[0-9a-fA-F]+")
_BSD = re.compile(r"(MD5|SHA256) ?\((?P<name>.+)\) ?= ?(?P<digest>[0-9a-fA-F]+)")


@dataclass(frozen=True)
class Digests:
    """Both digests of one archive, computed in one read."""

    md5: str
    sha256: str

    def of(self, algorithm: str) -> str:
        return self.md5 if algorithm == "md5" else self.sha256


def file_digests(path: Path) -> Digests:
    md5 = hashlib.md5(usedforsecurity=False)  # what UT1 publishes; see the module docstring
    sha256 = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            md5.update(chunk)
            sha256.update(chunk)
    return Digests(md5.hexdigest(), sha256.hexdigest())


def hex_digest(text: str, where: str = "the checksum") -> str:
    """``text`` as a lower-case md5 or sha256 hex digest; CarineError for anything else."""
    digest = text.strip().lower()
    if not _HEX.fullmatch(digest) or len(digest) not in ALGORITHMS:
        raise CarineError(f"{where}: {text.strip()[:80]!r} is not an md5 or sha256 hex digest",
                          "32 (md5) or 64 (sha256) hexadecimal digits")
    return digest


def _named(lines: list[str]) -> dict[str, str]:
    """File name -> digest, from ``digest  name`` / ``digest *name`` or ``MD5 (name) = digest``."""
    found = {}
    for line in lines:
        bsd = _BSD.fullmatch(line)
        if bsd:
            found[PurePosixPath(bsd["name"]).name] = bsd["digest"]
            continue
        parts = line.split(None, 1)
        if len(parts) == 2 and _HEX.fullmatch(parts[0]):
            found[PurePosixPath(parts[1].strip().lstrip("*")).name] = parts[0]
    return found


def published_digest(text: str, names: frozenset[str], where: str) -> str:
    """The digest a checksum file gives for the archive called one of ``names``."""
    lines = [line.strip() for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise UpdateRefused(f"{where} holds no digest", "give the checksum file of the archive")
    named = _named(lines)
    for name in sorted(names):
        if name in named:
            return hex_digest(named[name], where)
    if len(lines) == 1:  # one digest (with or without a name): the file is the archive's own
        return hex_digest(lines[0].split()[0], where)
    listed = ", ".join(sorted(named)[:8]) or "nothing recognisable"
    raise UpdateRefused(f"{where} has no line for {' or '.join(sorted(names)) or 'the archive'} "
                        f"(it lists {listed})",
                        "give the listing published with this archive, or --checksum")


def verify(found: Digests, expected: str, where: str, archive: str) -> str:
    """Raise UpdateRefused unless the archive has the ``expected`` digest; returns what was
    checked, for the manifest (e.g. ``md5:<digest>``)."""
    algorithm = ALGORITHMS[len(expected)]
    actual = found.of(algorithm)
    if actual != expected:
        raise UpdateRefused(f"{archive}: {algorithm} is {actual}, {where} says {expected}",
                            "the download is corrupt or not the published archive; "
                            "the current lists stay in place")
    return f"{algorithm}:{expected}"
