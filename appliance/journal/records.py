"""What a journal record is: its kind, time and fields, and the canonical bytes that are hashed.

One encoding for writing, verifying and exporting, so a third party can recompute every hash."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from appliance.errors import CarineError

KINDS = ("session", "nat", "navigation", "auth", "admin", "read", "directory")
Value = str | int | float | None
Fields = Mapping[str, Value]

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Credentials never enter the journal (SDET IAU-08): a field named like one is refused outright.
_FORBIDDEN = ("password", "passwd", "pwd", "secret", "credential", "passphrase")
GENESIS_TAG = b"carine-journal-v1"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class JournalError(CarineError):
    """A record or a journal operation that cannot be accepted."""


@dataclass(frozen=True)
class Record:
    """One stored record: ``seq`` counts from 1 inside its segment; ``at`` is UTC microseconds."""

    kind: str
    seq: int
    at: int
    body: str

    def leaf(self) -> bytes:
        return leaf_hash(self.kind, self.seq, self.at, self.body)

    def fields(self) -> dict[str, Value]:
        value: dict[str, Value] = json.loads(self.body)
        return value

    def time(self) -> datetime:
        return from_micros(self.at)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise JournalError(f"unknown journal kind {kind!r}", f"one of: {', '.join(KINDS)}")
    return kind


def canonical(fields: Fields) -> str:
    """The one JSON text of ``fields``: sorted keys, no spaces, UTF-8; refuses anything unsafe."""
    for name, value in fields.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise JournalError(f"journal field name {name!r} is not a lower-case identifier")
        if any(word in name for word in _FORBIDDEN):
            raise JournalError(f"journal field {name!r} looks like a credential: refused",
                               "never journal passwords or secrets (SDET IAU-08)")
        if value is not None and type(value) not in (str, int, float):
            raise JournalError(f"journal field {name!r} has type {type(value).__name__}",
                               "values are str, int, float or None")
        if isinstance(value, float) and value != value:  # NaN has no canonical JSON
            raise JournalError(f"journal field {name!r} is NaN")
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def leaf_hash(kind: str, seq: int, at: int, body: str) -> bytes:
    """SHA-256 of one record's canonical encoding: kind, seq, time and body, newline-separated."""
    return hashlib.sha256(f"{kind}\n{seq}\n{at}\n{body}".encode()).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """The chain link: each record's hash covers the previous one, so order and gaps show."""
    return hashlib.sha256(previous + leaf).digest()


def genesis(kind: str, day: date) -> bytes:
    """The 'previous hash' of a segment's first record: binds the segment to its kind and day."""
    return hashlib.sha256(GENESIS_TAG + f"\n{kind}\n{day.isoformat()}".encode()).digest()


def to_micros(at: datetime | None) -> int:
    if at is None:
        at = datetime.now(UTC)
    if at.tzinfo is None:
        raise JournalError(f"journal time {at.isoformat()} has no time zone",
                           "pass an aware UTC time")
    return (at - EPOCH) // timedelta(microseconds=1)


def from_micros(at: int) -> datetime:
    return EPOCH + timedelta(microseconds=at)


_DAY = 86_400_000_000
_ORDINAL_1970 = date(1970, 1, 1).toordinal()


def day_of(at: int) -> date:
    """Segments are per UTC day: a day never has 23 or 25 hours, whatever the school's zone."""
    return date.fromordinal(_ORDINAL_1970 + at // _DAY)
