"""Names and paths a client may use: each segment checked (no '..', no control or format
characters, nothing Windows, macOS or Linux refuses), Unicode normalised to NFC so that the
same word typed on a Mac (NFD) and on Windows names one file."""

from __future__ import annotations

import re
import unicodedata

TEMP_PREFIX = ".~carine-"
"""Uploads in progress are written beside their target under this prefix, never listed."""
_FORBIDDEN = set('<>:"/\\|?*')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.IGNORECASE)
MAX_BYTES = 255


class BadName(ValueError):
    """A path segment no client may create, with the reason in French and English."""


def check_segment(name: str) -> str:
    """``name`` normalised to NFC, or BadName saying why it is refused."""
    if name in ("", ".", ".."):
        raise BadName(f"{name!r}: not a file name")
    norm = unicodedata.normalize("NFC", name)
    bad = sorted({c for c in norm if c in _FORBIDDEN or ord(c) < 32 or ord(c) == 127
                  or unicodedata.category(c) in ("Cf", "Cs", "Co", "Cn")})
    if bad:
        shown = ", ".join(repr(c) if c.isprintable() else f"U+{ord(c):04X}" for c in bad)
        raise BadName(f"{name!r}: characters not allowed ({shown})")
    if norm[-1] in " .":
        raise BadName(f"{name!r}: Windows refuses a name ending with a space or a dot")
    if norm[0] == " ":
        raise BadName(f"{name!r}: a name may not start with a space")
    if _RESERVED.match(norm):
        raise BadName(f"{name!r}: a name Windows reserves for a device")
    if norm.startswith(TEMP_PREFIX):
        raise BadName(f"{name!r}: reserved for uploads in progress")
    if len(norm.encode("utf-8")) > MAX_BYTES:
        raise BadName(f"{name!r}: longer than {MAX_BYTES} bytes")
    return norm


def segments(path: str) -> list[str]:
    """The segments of a decoded request path; BadName on '.', '..', NUL or a backslash,
    whether they came plain or percent-encoded (WsgiDAV hands the decoded path)."""
    parts = [p for p in path.split("/") if p != ""]
    for part in parts:
        if part in (".", "..") or "\0" in part or "\\" in part:
            raise BadName(f"{path!r}: path traversal refused")
    return [unicodedata.normalize("NFC", p) for p in parts]
