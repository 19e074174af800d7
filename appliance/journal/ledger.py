"""The seal ledger: one JSON line per sealed or purged segment, each line chained to the previous
one and authenticated with an HMAC whose key (0600) never leaves the journal folder."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from appliance.journal.records import JournalError

LEDGER = "seals.jsonl"
KEY = "seal.key"
ZERO = "0" * 64


def key(root: Path, *, create: bool = False) -> bytes | None:
    """The HMAC key, created 0600 on first use (by the first writer or the sealer); None if
    absent and not created. Written aside then linked in: a writer starting at the same time
    reads a whole key or none, never half of one."""
    path = root / KEY
    if not path.exists():
        if not create:
            return None
        spare = root / f".{KEY}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32) + "\n")
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process was first: use its key
                os.link(spare, path)
        finally:
            spare.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def entry_text(entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"))


def mac(secret: bytes, entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hmac"}
    return hmac.new(secret, entry_text(body).encode(), hashlib.sha256).hexdigest()


def line_hash(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


def read(root: Path) -> list[tuple[int, str, dict[str, Any] | None]]:
    """Every ledger line as (line number, text, parsed entry or None when it does not parse)."""
    path = root / LEDGER
    if not path.exists():
        return []
    out: list[tuple[int, str, dict[str, Any] | None]] = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        out.append((number, text, parsed if isinstance(parsed, dict) else None))
    return out


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """One sealer or purger at a time (the daily job and a technician's command may meet)."""
    fd = os.open(root / ".ledger.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def append(root: Path, entries: list[dict[str, Any]]) -> None:
    """Chain, authenticate and append ``entries`` (call under ``locked``)."""
    secret = key(root, create=True)
    assert secret is not None
    lines = read(root)
    if lines and lines[-1][2] is None:
        raise JournalError(f"the last line of {root / LEDGER} is damaged",
                           "run `carine journal verify` and keep the folder as evidence")
    previous = line_hash(lines[-1][1]) if lines else ZERO
    texts = []
    for entry in entries:
        entry = {**entry, "prev": previous}
        entry["hmac"] = mac(secret, entry)
        text = entry_text(entry)
        texts.append(text + "\n")
        previous = line_hash(text)
    fd = os.open(root / LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as out:
        out.write("".join(texts))
        out.flush()
        os.fsync(out.fileno())
