"""Writing files so that a reader sees the old content or the new, never a half: a temporary
file beside the target, fsync, the final mode, one rename, then fsync of the folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomic(path: Path, data: str | bytes | Iterable[bytes], mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically, readable per ``mode`` from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        os.fchmod(fd, mode)  # mkstemp makes 0600; set the final mode before any content
        with os.fdopen(fd, "wb") as out:
            if isinstance(data, str):
                out.write(data.encode("utf-8"))
            elif isinstance(data, bytes):
                out.write(data)
            else:
                for part in data:
                    out.write(part)
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` survive a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
