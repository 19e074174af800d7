"""The CSV format for schools without AAF exports (or for extra people): one person a line,
`;`-separated as French spreadsheets save it, header in French, UTF-8 or Windows-1252.

    identifiant;nom;prenom;profil;classe;groupes;date_naissance;email"""

from __future__ import annotations

import csv
import io

from appliance.imports.codes import ImportRefused, Issue
from appliance.imports.model import CODE_RE, MAIL_RE, Incoming, Settings, bad_text, parse_date
from appliance.imports.source import decode_text

COLUMNS = ("identifiant", "nom", "prenom", "profil", "classe", "groupes", "date_naissance",
           "email")
REQUIRED = ("identifiant", "nom", "prenom", "profil")
MAX_ROWS = 200_000
# Accents and spellings an operator may type for the default profiles.
ALIASES = {"élève": "eleve", "eleves": "eleve", "élèves": "eleve",
           "professeur": "enseignant", "prof": "enseignant", "enseignants": "enseignant",
           "invité": "invite"}


def _separator(header: str) -> str:
    counts = {sep: header.count(sep) for sep in (";", "\t", ",")}
    return max(counts, key=lambda sep: counts[sep])


def parse_csv(name: str, data: bytes, settings: Settings,
              encoding: str | None = None) -> tuple[list[Incoming], list[Issue], str]:
    """People of a CSV file, the problems of its lines, and the encoding it was read in."""
    text, used = decode_text(name, data, encoding)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportRefused("IMP-106", name, "the file is empty", 1)
    sep = _separator(lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    header = [h.strip().lower().replace(" ", "_").replace("é", "e") for h in next(reader)]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [h for h in header if h and h not in COLUMNS]
    if missing or unknown:
        what = (f"missing column(s) {', '.join(missing)}" if missing else "") + \
            ("; " if missing and unknown else "") + \
            (f"unknown column(s) {', '.join(unknown)}" if unknown else "")
        raise ImportRefused("IMP-106", name, what, 1)
    people: list[Incoming] = []
    issues: list[Issue] = []
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(people) + len(issues) >= MAX_ROWS:
            raise ImportRefused("IMP-107", name, f"more than {MAX_ROWS} lines")
        cells = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        person, problems = _person(name, line, cells, settings)
        issues += problems
        if person is not None:
            people.append(person)
    return people, issues, used


def _person(name: str, line: int, c: dict[str, str],
            settings: Settings) -> tuple[Incoming | None, list[Issue]]:
    key = c["identifiant"]
    if not key:
        return None, [Issue("IMP-001", name, "empty identifiant", line)]
    issues = []
    for column in ("identifiant", "nom", "prenom", "classe", "email"):
        if bad_text(c.get(column, "")):
            issues.append(Issue("IMP-011", name, f"column {column}", line, key))
    for column in ("nom", "prenom"):
        if not c[column]:
            issues.append(Issue("IMP-005", name, f"empty {column}", line, key))
    profile = c["profil"].lower()
    profile = ALIASES.get(profile, profile)
    if profile not in settings.known_profiles:
        issues.append(Issue("IMP-002", name, f"profil {c['profil']!r}: expected one of "
                            f"{', '.join(sorted(settings.known_profiles))}", line, key))
    birth = c.get("date_naissance", "")
    if birth and parse_date(birth) is None:
        issues.append(Issue("IMP-004", name, f"date_naissance {birth!r}", line, key))
    email = c.get("email", "")
    if email and not MAIL_RE.match(email):
        issues.append(Issue("IMP-006", name, f"email {email!r}", line, key))
    classe = c.get("classe", "")
    groups = tuple(g.strip() for g in c.get("groupes", "").replace("|", ",").split(",")
                   if g.strip())
    for code in ((classe,) if classe else ()) + groups:
        if not CODE_RE.match(code):
            issues.append(Issue("IMP-009", name, f"code {code!r}", line, key))
    if issues:
        return None, issues
    return Incoming(name, line, "add", "csv", "csv", key, settings.csv_uai, c["nom"],
                    c["prenom"], parse_date(birth) if birth else None, email or None, profile,
                    (classe,) if classe else (), groups), []
