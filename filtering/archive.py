"""Unpack a list archive (UT1's blacklists.tar.gz or .tar.xz) safely into a folder.

Only regular files and folders under the target are written: no links, devices, absolute paths
or '..' — an archive from the network is untrusted input."""

from __future__ import annotations

import tarfile
from pathlib import Path, PurePosixPath

from appliance.errors import CarineError

MAX_BYTES = 2 << 30  # a UT1 archive unpacks to a few hundred MB; refuse a decompression bomb


def unpack(archive: Path, target: Path) -> Path:
    """Unpack ``archive`` into ``target``; returns ``target``."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            total = 0
            for member in members:
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts:
                    raise CarineError(f"{archive}: unsafe path {member.name!r} in the archive")
                if not (member.isfile() or member.isdir()):
                    raise CarineError(f"{archive}: {member.name!r} is not a plain file",
                                      "list archives hold only folders and files")
                total += member.size
                if total > MAX_BYTES:
                    raise CarineError(f"{archive}: unpacks to more than {MAX_BYTES >> 20} MB")
            target.mkdir(parents=True, exist_ok=True)
            for member in members:
                path = target / member.name
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is None:
                    continue
                with source, path.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CarineError(f"{archive} is not a readable list archive: {exc}",
                          "give a .tar.gz or .tar.xz of the UT1 blacklists") from exc
    return target
