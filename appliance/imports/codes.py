"""The import's operator-oriented error codes (SDET: errors for operations, not developers): what
went wrong with a file or a record, and what the operator should do. The README lists them."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.errors import CarineError


@dataclass(frozen=True)
class Code:
    code: str
    summary: str
    action: str
    blocking: bool = True  # False: a warning, the import goes on


CODES = {c.code: c for c in (
    # Records.
    Code("IMP-001", "missing join key (ENTPersonJointure / identifiant)",
         "ask the académie for a corrected export, or fill the identifiant column"),
    Code("IMP-002", "unknown profile",
         "use a profile of filtering.profiles, or map it under directory.profiles"),
    Code("IMP-003", "the same key appears twice in the files",
         "keep one line per person (a full export split in several files must not overlap)"),
    Code("IMP-004", "bad date (expected JJ/MM/AAAA or AAAA-MM-JJ)", "correct the date"),
    Code("IMP-005", "missing last name or first name", "fill nom and prenom"),
    Code("IMP-006", "bad e-mail address", "correct the address or leave it empty"),
    Code("IMP-007", "unknown category (categoriePersonne)",
         "expected Eleve, PersEducNat, PersRelEleve or EtabEducNat: is this an AAF file?"),
    Code("IMP-008", "a structure without UAI (EtabEducNat)",
         "ask the académie for a corrected EtabEducNat export"),
    Code("IMP-009", "bad class or group code", "letters, digits and - _ . / + only"),
    Code("IMP-010", "a modification or deletion of a person the directory does not know",
         "import the full export first, then the deltas in order"),
    Code("IMP-011", "a field is too long or contains control characters", "correct the field"),
    Code("IMP-012", "a join key already belongs to a person of another source",
         "the same person is in the AAF and in a CSV: remove them from the CSV"),
    Code("IMP-013", "the person belongs to no structure of this school",
         "nothing to do if expected (another school of the export); else check --uai", False),
    Code("IMP-014", "a parent (PersRelEleve): parents get no account on the appliance",
         "nothing to do", False),
    Code("IMP-015", "an attribute CARINE does not read was ignored", "nothing to do", False),
    Code("IMP-016", "neither the name nor the content tells a full file from a delta: read as a "
         "delta (nobody is deactivated)", "if it is a full export, run again with --full",
         False),
    # Whole import.
    Code("IMP-020", "a full import would deactivate too large a share of a population",
         "check that every part of a split export is given; or run again with --force"),
    Code("IMP-021", "the change failed while being applied: nothing was changed",
         "read the message; run again; if it persists, call the support with the change log"),
    # Files (the file is refused, nothing is read from it).
    Code("IMP-100", "the file cannot be read", "check the path and the permissions"),
    Code("IMP-101", "the file is larger than the limit", "is it the right file? else --max-mb"),
    Code("IMP-102", "the XML is malformed or truncated",
         "download the export again; the line given is where reading stopped"),
    Code("IMP-103", "the XML declares entities or an internal DTD (refused: XML bomb or external "
         "entity)", "never import a file that did not come from the académie's AAF"),
    Code("IMP-104", "the file's bytes do not match its encoding",
         "AAF files are ISO-8859-15; CSV files UTF-8 or Windows-1252: save again"),
    Code("IMP-105", "not an AAF file (no ficAlimMENESR root) nor a CSV with the expected header",
         "see the README for the two formats"),
    Code("IMP-106", "the CSV header lacks a required column or has an unknown one",
         "identifiant;nom;prenom;profil;classe;groupes;date_naissance;email"),
    Code("IMP-107", "too many records in one file", "split the file"),
)}


@dataclass(frozen=True)
class Issue:
    """One problem found by the analysis, located by file, line and key when known."""

    code: str
    file: str
    message: str
    line: int | None = None
    key: str | None = None

    @property
    def blocking(self) -> bool:
        return CODES[self.code].blocking

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        who = f" [{self.key}]" if self.key else ""
        return f"{self.code} {where}{who}: {self.message}"


class ImportRefused(CarineError):
    """A whole file or import refused; nothing was changed."""

    exit_code = 3

    def __init__(self, code: str, file: str, message: str, line: int | None = None) -> None:
        where = file + (f", line {line}" if line else "")
        super().__init__(f"{code} {where}: {message}; nothing was changed",
                         CODES[code].action)
        self.code = code
        self.file = file
        self.line = line
