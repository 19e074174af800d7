"""The helper's answer to one request line: OK or ERR with the notes Squid logs, shared by the
decider, its answer cache and the compiled lane (one module, so none of them imports another)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

PLAIN = re.compile(r"[A-Za-z0-9/_.:-]*")  # note values Squid reads as they are (else %-encoded)


@dataclass(frozen=True, eq=False, slots=True)
class Answer:
    """OK or ERR, and the annotations Squid logs (%{category}note...) and passes to deny_info.

    ``cacheable``: the same request from the same zone gets this answer until the decider's
    cache is reset; ``record``: (host, category, reason, profile) of a refusal to remember for
    the "recently blocked" page, each time it is given. ``words`` (the answer as Squid reads it
    after the channel id) and ``counted`` (the counters' labels) are derived from the notes."""

    ok: bool
    notes: dict[str, str] = field(default_factory=dict)
    cacheable: bool = False
    record: tuple[str, str, str, str] | None = None
    words: bytes = b""
    counted: tuple[str, str, str] = ("", "", "")

    def __post_init__(self) -> None:
        if not self.words:  # computed once: cached answers are given many times
            # Values are %-encoded: Squid kv-pairs end at a space, a host can hold odd bytes.
            notes = " ".join(f"{k}={v if PLAIN.fullmatch(v) else quote(v, safe='/-_.:')}"
                             for k, v in self.notes.items())
            object.__setattr__(self, "words", (b" OK " if self.ok else b" ERR ")
                               + notes.encode() + b"\n")
            object.__setattr__(self, "counted", (
                self.notes.get("profile", "-"), self.notes.get("category", "-"),
                self.notes.get("decision", "-")))
