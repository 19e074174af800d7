"""AAF requests to people and structures: both dialects (secondary `sn`/`givenName`/
`ENTEleveClasses`, primary "1D" `ENTPersonNom`/`ENTPersonPrenom`/`ENTPersonClasses`), profiles
from the category and the functions, classes and groups as `structure$code` values."""

from __future__ import annotations

import re
from collections.abc import Iterable

from appliance.imports.aaf_xml import RawRequest
from appliance.imports.codes import Issue
from appliance.imports.model import (
    CODE_RE,
    MAIL_RE,
    Incoming,
    Settings,
    Structure,
    bad_text,
    parse_date,
)

UAI_RE = re.compile(r"^[0-9]{7}[A-Z]$")
LAST = ("sn", "ENTPersonNom")
FIRST = ("givenName", "ENTPersonPrenom")
MAIL = ("mail", "ENTPersonMail")
CLASSES = ("ENTEleveClasses", "ENTPersonClasses", "ENTAuxEnsClassesMatieres", "ENTAuxEnsClasses")
GROUPS = ("ENTEleveGroupes", "ENTPersonGroupes", "ENTAuxEnsGroupesMatieres", "ENTAuxEnsGroupes")
READ = {"ENTPersonJointure", "ENTPersonDateNaissance", "ENTPersonStructRattach",
        "ENTPersonFonctions", "ENTPersonCategorieEnseignant", "PersEducNatPresenceDevantEleves",
        *LAST, *FIRST, *MAIL, *CLASSES, *GROUPS}
PERSONS = ("Eleve", "PersEducNat", "PersRelEleve")
STRUCTURES = ("EtabEducNat",)


def first(attrs: dict[str, list[str]], names: Iterable[str]) -> str | None:
    """The first value of the first attribute present among ``names`` ('' when empty)."""
    for name in names:
        if name in attrs:
            return attrs[name][0] if attrs[name] else ""
    return None


def structure(req: RawRequest, file: str) -> Structure | Issue:
    """An EtabEducNat request as a structure (UAI, name, labels of classes and groups)."""
    a = req.attrs
    uai = first(a, ("ENTStructureUAI", "ENTEtablissementUAI")) or ""
    jointure = first(a, ("ENTStructureJointure",)) or req.identifier or uai
    if not UAI_RE.match(uai):
        return Issue("IMP-008", file, f"structure {jointure!r}: UAI {uai!r} is not 7 digits and "
                     "a capital letter", req.line, jointure)
    labels: dict[str, str] = {}
    for value in a.get("ENTStructureClasses", []) + a.get("ENTStructureGroupes", []):
        code, _, label = value.partition("$")
        labels[code] = label or code
    return Structure(jointure, uai, first(a, ("ENTStructureNomCourant",)) or uai,
                     first(a, ("ENTStructureTypeStruct",)) or "", labels)


class PersonMapper:
    """Maps person requests once the structures of the whole import are known."""

    def __init__(self, settings: Settings, uai_of: dict[str, str]) -> None:
        self.s = settings
        self.uai_of = uai_of  # structure jointure -> UAI

    def resolve(self, jointure: str) -> str | None:
        return self.uai_of.get(jointure) or (jointure if UAI_RE.match(jointure) else None)

    def person(self, req: RawRequest, file: str) -> tuple[Incoming | None, list[Issue]]:
        a, issues = req.attrs, []
        key = first(a, ("ENTPersonJointure",)) or req.identifier
        if not key:
            return None, [Issue("IMP-001", file, "no ENTPersonJointure and no identifier",
                                req.line)]
        if req.category not in PERSONS:
            return None, [Issue("IMP-007", file, f"category {req.category!r}", req.line, key)]
        if req.category == "PersRelEleve":
            return None, [Issue("IMP-014", file, "parent skipped", req.line, key)]
        if req.op == "delete":
            return Incoming(file, req.line, "delete", "aaf", req.category, key), []
        if req.too_long:
            issues.append(Issue("IMP-011", file, f"attribute {req.too_long}: too many or too "
                                "long values", req.line, key))
        uai = self._uai(a)
        if uai is None and req.op == "add":
            return None, [Issue("IMP-013", file, "attached to no structure of this import",
                                req.line, key)]
        last, given = first(a, LAST), first(a, FIRST)
        for label, value in (("last name", last), ("first name", given)):
            if value is None and req.op == "modify":
                continue
            if not value:
                issues.append(Issue("IMP-005", file, f"no {label}", req.line, key))
            elif bad_text(value):
                issues.append(Issue("IMP-011", file, f"{label} {value[:40]!r}…", req.line, key))
        birth = first(a, ("ENTPersonDateNaissance",))
        if birth and parse_date(birth) is None:
            issues.append(Issue("IMP-004", file, f"birth date {birth!r}", req.line, key))
        mail = first(a, MAIL)
        if mail and not MAIL_RE.match(mail):
            issues.append(Issue("IMP-006", file, f"e-mail {mail!r}", req.line, key))
        classes, groups = self._codes(a, CLASSES, uai), self._codes(a, GROUPS, uai)
        for code in (classes or ()) + (groups or ()):
            if not CODE_RE.match(code):
                issues.append(Issue("IMP-009", file, f"code {code!r}", req.line, key))
        profile = self._profile(req)
        if profile is not None and profile not in self.s.known_profiles:
            issues.append(Issue("IMP-002", file, f"profile {profile!r} is not among "
                                "filtering.profiles", req.line, key))
        if any(i.blocking for i in issues):
            return None, issues
        return Incoming(file, req.line, req.op, "aaf", req.category, key, uai, last, given,
                        parse_date(birth) if birth else None, mail or None, profile, classes,
                        groups), issues

    def _uai(self, a: dict[str, list[str]]) -> str | None:
        if "ENTPersonStructRattach" not in a:
            return None
        found = [u for u in map(self.resolve, a["ENTPersonStructRattach"]) if u]
        wanted = [u for u in found if self.s.uais is None or u in self.s.uais]
        return wanted[0] if wanted else None

    def _codes(self, a: dict[str, list[str]], names: tuple[str, ...],
               uai: str | None) -> tuple[str, ...] | None:
        if not any(n in a for n in names):
            return None
        codes: list[str] = []
        for name in names:
            for value in a.get(name, []):
                struct, _, rest = value.partition("$")
                if not rest:  # no structure prefix: the person's own structure
                    struct, rest = "", struct
                if struct and uai and self.resolve(struct) not in (uai, None):
                    continue  # a class of another school the person also works in
                code = rest.split("$")[0].strip()
                if code and code not in codes:
                    codes.append(code)
        return tuple(codes)

    def _profile(self, req: RawRequest) -> str | None:
        if req.category == "Eleve":
            return self.s.pupil
        a = req.attrs
        if req.op == "modify" and not {"ENTPersonFonctions", "ENTPersonCategorieEnseignant",
                                       "PersEducNatPresenceDevantEleves"} & set(a):
            return None
        codes = {v.split("$")[1] if "$" in v else v for v in a.get("ENTPersonFonctions", [])}
        teaches = bool(codes & self.s.teaching_functions)
        flag = first(a, ("ENTPersonCategorieEnseignant",)) or ""
        if flag.lower() in ("true", "o", "oui", "1"):
            teaches = True
        if not codes and (first(a, ("PersEducNatPresenceDevantEleves",)) or "") == "O":
            teaches = True
        return self.s.teacher if teaches else self.s.staff
