"""Password hashing for the directory: argon2id for every account (D-AUT-4), an optional NT hash
for PEAP-MSCHAPv2, and initial passwords that a pupil can type from a paper sheet."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from Crypto.Hash import MD4

# RFC 9106's second recommended option (64 MiB, 3 passes) is too slow for a login burst of a
# whole class on a small appliance; 19 MiB / 2 passes is OWASP's argon2id minimum.
HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# A hash of a random secret, verified when the login is unknown so that the answer takes as
# long as for a known login (no account enumeration by timing).
_DUMMY = HASHER.hash(secrets.token_urlsafe(16))

# No look-alike letters or digits (0/O, 1/l/I): the sheet is read by children.
_LETTERS = "abcdefghjkmnpqrstuvwxyz"
_DIGITS = "23456789"
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    """The argon2id hash stored for ``password``."""
    return HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; a missing hash still costs one verification."""
    try:
        return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with weaker parameters than today's (rehash at next login)."""
    try:
        return HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def nt_hash(password: str) -> str:
    """MD4 of the UTF-16LE password, as MSCHAPv2 needs it: as good as the password for whoever
    steals it, hence kept only where the site turns PEAP-MSCHAPv2 on."""
    return MD4.new(password.encode("utf-16-le")).hexdigest()  # noqa: S303 - MSCHAPv2 needs it


def initial_password(length: int = 10) -> str:
    """A random password of lower-case letters and digits, easy to copy from paper."""
    alphabet = _LETTERS + _DIGITS
    while True:
        word = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c in _DIGITS for c in word) and any(c in _LETTERS for c in word):
            return word


def check_new_password(password: str, login: str) -> str | None:
    """Why ``password`` is refused as a new password for ``login``, or None when acceptable."""
    if len(password) < MIN_LENGTH:
        return f"au moins {MIN_LENGTH} caractères"
    if login and login.lower() in password.lower():
        return "ne doit pas contenir l'identifiant"
    if len(set(password)) < 4:
        return "trop peu de caractères différents"
    return None
