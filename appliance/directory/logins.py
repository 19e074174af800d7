"""Login names: generated once from a person's names, ASCII, unique and never reused, so that a
login always points to the same person in the journal (D-AUT-2)."""

from __future__ import annotations

import re
import sqlite3
import unicodedata

MAX_LENGTH = 20
LOGIN_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "Oe", "æ": "ae", "Æ": "Ae", "ß": "ss", "ø": "o",
                            "Ø": "O", "đ": "d", "Đ": "D", "ł": "l", "Ł": "L"})


def fold(text: str) -> str:
    """Lower-case ASCII letters only: "Éloïse-Marie d'Arc" -> "eloisemariedarc"."""
    # Ligatures and letters NFKD leaves whole: "Œlian" must not lose its first letters.
    text = text.translate(_LIGATURES)
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z]", "", ascii_text)


def base_login(first_name: str, last_name: str) -> str:
    """prenom.nom, cut to MAX_LENGTH; "compte" when the names have no latin letter at all, and
    a short result ("a") lengthened so that every login has at least three characters."""
    first, last = fold(first_name), fold(last_name)
    joined = ".".join(part for part in (first, last) if part) or "compte"
    if len(joined) < 3:
        joined = f"{joined}.compte"
    return joined[:MAX_LENGTH].rstrip(".")


def taken(conn: sqlite3.Connection, login: str) -> bool:
    """Whether ``login`` belongs, or once belonged, to an account."""
    row = conn.execute("SELECT 1 FROM logins_used WHERE login = ?", (login,)).fetchone()
    return row is not None


def allocate(conn: sqlite3.Connection, first_name: str, last_name: str,
             reserved: set[str] | None = None) -> str:
    """A new unique login for these names (prenom.nom, then prenom.nom2, prenom.nom3...).

    ``reserved`` holds logins promised in the same batch but not yet written."""
    reserved = reserved if reserved is not None else set()
    base = base_login(first_name, last_name)
    candidate, n = base, 1
    while candidate in reserved or taken(conn, candidate):
        n += 1
        suffix = str(n)
        candidate = base[:MAX_LENGTH - len(suffix)] + suffix
    reserved.add(candidate)
    return candidate


def record(conn: sqlite3.Connection, login: str) -> None:
    """Mark ``login`` as used for ever (even after the account is purged)."""
    conn.execute("INSERT OR IGNORE INTO logins_used (login) VALUES (?)", (login,))
