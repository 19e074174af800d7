"""``carine prepare``: the state of the core that a tree refers to but never ships: the proxy's
peek certificate (a private key, 0600). Idempotent; services prepare their own (radius)."""

from __future__ import annotations

from pathlib import Path

from appliance.tls import write_self_signed


def prepare(state: Path) -> list[str]:
    """Make what is missing under ``state``; the names of what was made."""
    made: list[str] = []
    peek = state / "tls/proxy-peek.pem"
    if not peek.exists():
        write_self_signed(peek, "CARINE proxy (peek only)")
        made.append("proxy peek certificate")
    return made
