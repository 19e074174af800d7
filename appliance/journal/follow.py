"""Following a log file that logrotate renames: the position (inode, offset) is saved after each
committed batch: a restart resumes where it stopped, a rotation finishes the old file first."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

from appliance.files import write_atomic

BATCH = 100_000  # lines per transaction when catching up: fewer index pages per record


def _position(state: Path) -> tuple[int, int]:
    try:
        saved = json.loads(state.read_text(encoding="utf-8"))
        return int(saved["inode"]), int(saved["offset"])
    except (OSError, ValueError, KeyError):
        return 0, 0


def _batches(path: Path, offset: int) -> Iterator[tuple[list[str], int]]:
    """Complete lines from ``offset`` in batches, each with the offset after it."""
    with path.open("rb") as log:
        log.seek(offset)
        lines: list[str] = []
        for raw in log:
            if not raw.endswith(b"\n"):
                break  # Squid is still writing that line: take it next time
            offset += len(raw)
            lines.append(raw.decode("utf-8", "replace"))
            if len(lines) >= BATCH:
                yield lines, offset
                lines = []
        if lines:
            yield lines, offset


def follow_once(path: Path, state: Path, consume: Callable[[list[str]], None]) -> int:
    """Hand every new complete line of ``path`` to ``consume``; returns the number of lines."""
    inode, offset = _position(state)
    count = 0
    try:
        current = path.stat()
    except FileNotFoundError:
        return 0
    if inode and inode != current.st_ino:
        # Rotated since last time: finish the renamed file (same inode, e.g. access.log.1).
        rotated = Path(f"{path}.1")
        if rotated.exists() and rotated.stat().st_ino == inode:
            for lines, end in _batches(rotated, offset):
                consume(lines)
                count += len(lines)
                _save(state, inode, end)
        offset = 0
    elif current.st_size < offset:
        offset = 0  # truncated in place (copytruncate)
    for lines, end in _batches(path, offset):
        consume(lines)
        count += len(lines)
        _save(state, current.st_ino, end)
    if count == 0:
        _save(state, current.st_ino, offset)
    return count


def _save(state: Path, inode: int, offset: int) -> None:
    write_atomic(state, json.dumps({"inode": inode, "offset": offset}) + "\n", 0o600)
