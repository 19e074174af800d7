"""What the parsers hand to the analysis: people and structures as the files describe them, in one
shape for AAF (both dialects) and CSV, and the settings that map them to CARINE profiles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.site import Site

CODE_RE = re.compile(r"^\w[\w ._/+-]{0,39}$")
MAIL_RE = re.compile(r"^[^@\s;,<>]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MAX_FIELD = 120


@dataclass(frozen=True)
class Settings:
    """How people become accounts: profiles by kind, teaching functions, structures kept."""

    pupil: str = "eleve"
    teacher: str = "enseignant"
    staff: str = "personnel"
    teaching_functions: frozenset[str] = frozenset({"ENS", "DOC"})
    known_profiles: frozenset[str] = frozenset({"eleve", "enseignant", "personnel", "invite"})
    uais: frozenset[str] | None = None  # None: every structure in the files
    csv_uai: str | None = None  # the structure CSV people belong to
    max_deactivate_percent: int = 40

    @classmethod
    def from_site(cls, site: Site, uai: str | None = None) -> Settings:
        d = site.directory
        chosen = uai or site.school.uai
        return cls(d.profiles.pupil, d.profiles.teacher, d.profiles.staff,
                   frozenset(d.teaching_functions), frozenset(site.filtering.profiles),
                   frozenset({chosen}), chosen, d.max_deactivate_percent)


@dataclass(frozen=True)
class Incoming:
    """One person as a file describes them. For a modification, None means "unchanged"."""

    file: str
    line: int | None
    op: str  # add | modify | delete
    source: str  # aaf | csv
    category: str  # Eleve | PersEducNat | csv
    key: str
    uai: str | None = None
    last_name: str | None = None
    first_name: str | None = None
    birth_date: str | None = None
    email: str | None = None
    profile: str | None = None
    classes: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None

    @property
    def division(self) -> str | None:
        """The person's own class (a pupil is in one division only): printed on the sheet."""
        return self.classes[0] if self.classes and self.category in ("Eleve", "csv") else None


@dataclass
class Structure:
    """A school (EtabEducNat) with the labels of its classes and groups."""

    jointure: str
    uai: str
    name: str
    kind: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def parse_date(text: str) -> str | None:
    """ISO date from JJ/MM/AAAA or AAAA-MM-JJ; None when it is not a real date."""
    text = text.strip()
    match = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None and (iso := re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)):
        parts = (iso.group(1), iso.group(2), iso.group(3))
    if parts is None:
        return None
    try:
        day = date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    if not 1900 <= day.year <= 2100:
        return None
    return day.isoformat()


def bad_text(value: str) -> bool:
    """Too long for a name, or with control characters (they would reach the sheets)."""
    return len(value) > MAX_FIELD or any(ch < " " or ch == "\x7f" for ch in value)
