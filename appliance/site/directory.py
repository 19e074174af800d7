"""The directory section of the site file (D-DIR-*): which filtering profile each kind of person
from the AAF gets, which function codes make a teacher, and what the password sheets print."""

from __future__ import annotations

from pydantic import Field

from appliance.site.base import Line, Name, Section


class DirectoryProfiles(Section):
    """Filtering profile given to each kind of person an import brings (each must exist under
    filtering.profiles)."""

    pupil: Name = "eleve"
    """AAF `Eleve`."""
    teacher: Name = "enseignant"
    """AAF `PersEducNat` with a teaching function (see teaching_functions)."""
    staff: Name = "personnel"
    """Every other AAF `PersEducNat` (administration, vie scolaire, agents...)."""


class Directory(Section):
    """Directory and imports (D-DIR-*): AAF and CSV imports, account sheets."""

    profiles: DirectoryProfiles = DirectoryProfiles()
    """Profiles of the people the AAF brings."""
    teaching_functions: tuple[str, ...] = Field(default=("ENS", "DOC"), min_length=1)
    """`ENTPersonFonctions` codes that make a PersEducNat a teacher (ENS: enseignement, DOC:
    documentation)."""
    portal_address: Line | None = None
    """Address printed on the password sheets; default http://portail.<lan.domain>/."""
    max_deactivate_percent: int = Field(default=40, ge=1, le=100)
    """A full import refuses to deactivate more than this share of a population at once (an
    export cut short must not close most accounts); `--force` overrides it."""
