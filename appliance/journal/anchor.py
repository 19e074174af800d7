"""The head anchor of an open segment: its last seq and chain hash, authenticated with the seal
key and written in the same transaction as the records, so removing the last records shows.

Without it, an open (unsealed) day's chain proves only its inside: cutting its tail left a
shorter chain that verified. The forwarder sends each new anchor to the collector."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date

META_KEY = "anchor"


def mac(secret: bytes, kind: str, day: date, seq: int, head: bytes) -> str:
    text = f"carine-journal-head\n{kind}\n{day.isoformat()}\n{seq}\n{head.hex()}"
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def text(secret: bytes, kind: str, day: date, seq: int, head: bytes) -> str:
    """The meta value: ``seq head hmac``."""
    return f"{seq} {head.hex()} {mac(secret, kind, day, seq, head)}"


def problems(secret: bytes | None, kind: str, day: date, value: str | None, last_seq: int,
             last_chain: bytes | None) -> list[str]:
    """What is wrong between a segment's anchor ``value`` and its last record (seq, chain)."""
    if value is None:
        return [] if last_seq == 0 else [
            "no head anchor (removed?): records at its end may have been cut"]
    try:
        seq_text, head_hex, tag = value.split()
        seq, head = int(seq_text), bytes.fromhex(head_hex)
    except ValueError:
        return ["head anchor is damaged"]
    found = []
    if secret is None:
        found.append("head anchor unauthenticated: the seal key is missing")
    elif not hmac.compare_digest(tag, mac(secret, kind, day, seq, head)):
        found.append("head anchor forged (HMAC does not match)")
    if seq > last_seq:
        cut = f"record {seq}" if seq == last_seq + 1 else f"records {last_seq + 1}..{seq}"
        found.append(f"{cut} removed at the end (the head anchor names record {seq})")
    elif seq < last_seq:
        found.append(f"records {seq + 1}..{last_seq} come after the head anchor "
                     "(added outside the journal)")
    elif last_chain is not None and last_chain != head:
        found.append(f"record {seq} differs from the head anchor")
    return found
