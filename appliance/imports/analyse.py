"""Phase 1, analyse: read every file (refusing hostile or broken ones whole), check every record,
and say which populations a full file covers. Reads no directory and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from appliance.imports import aaf_map
from appliance.imports.aaf_xml import RawRequest, parse_aaf
from appliance.imports.codes import Issue
from appliance.imports.csv_format import parse_csv
from appliance.imports.model import Incoming, Settings, Structure
from appliance.imports.source import MAX_MB, is_xml, read_limited

Scope = tuple[str, str, str | None]  # (source, category, uai): a population a full file lists


@dataclass
class FileReport:
    name: str
    kind: str  # aaf | csv
    full: bool
    dialect: str = ""  # 2d | 1d (AAF)
    encoding: str = ""
    records: int = 0


@dataclass
class Analysis:
    files: list[FileReport] = field(default_factory=list)
    people: list[Incoming] = field(default_factory=list)
    structures: dict[str, Structure] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    scopes: set[Scope] = field(default_factory=set)

    @property
    def blocking(self) -> list[Issue]:
        return [i for i in self.issues if i.blocking]


def _full(name: str, requests: list[RawRequest], mode: str) -> bool | None:
    if mode != "auto":
        return mode == "full"
    lower = Path(name).name.lower()
    if "complet" in lower:
        return True
    if "delta" in lower or any(r.op != "add" for r in requests):
        return False
    return None


def analyse(paths: list[Path], settings: Settings, mode: str = "auto",
            max_mb: int = MAX_MB, encoding: str | None = None) -> Analysis:
    """Parse and check ``paths`` in order; ``mode`` is auto, full or delta."""
    result = Analysis()
    aaf: list[tuple[FileReport, list[RawRequest]]] = []
    for path in paths:
        name = str(path)
        data = read_limited(path, max_mb)
        if is_xml(data):
            requests = parse_aaf(name, data)
            full = _full(name, requests, mode)
            if full is None:
                result.issues.append(Issue("IMP-016", name, "read as a delta"))
            report = FileReport(name, "aaf", bool(full), _dialect(requests), "xml",
                                len(requests))
            aaf.append((report, requests))
        else:
            people, issues, used = parse_csv(name, data, settings, encoding)
            report = FileReport(name, "csv", mode == "full", "", used,
                                len(people) + len(issues))
            result.people += people
            result.issues += issues
            if report.full:
                result.scopes.add(("csv", "csv", settings.csv_uai))
        result.files.append(report)
    _aaf_people(result, aaf, settings)
    _duplicates(result)
    return result


def _dialect(requests: list[RawRequest]) -> str:
    one_d = any("ENTPersonNom" in r.attrs or "ENTPersonPrenom" in r.attrs for r in requests)
    return "1d" if one_d else "2d"


def _aaf_people(result: Analysis, files: list[tuple[FileReport, list[RawRequest]]],
                settings: Settings) -> None:
    uai_of: dict[str, str] = {}
    for report, requests in files:
        for req in requests:
            if req.category in aaf_map.STRUCTURES:
                found = aaf_map.structure(req, report.name)
                if isinstance(found, Issue):
                    result.issues.append(found)
                else:
                    uai_of[found.jointure] = found.uai
                    if settings.uais is None or found.uai in settings.uais:
                        result.structures[found.uai] = found
    mapper = aaf_map.PersonMapper(settings, uai_of)
    for report, requests in files:
        ignored: set[str] = set()
        categories = {c for c in aaf_map.PERSONS if f"_{c.lower()}_" in
                      f"_{Path(report.name).name.lower()}_"}
        uais: set[str] = set(settings.uais or ())
        for req in requests:
            if req.category in aaf_map.STRUCTURES:
                continue
            ignored |= set(req.attrs) - aaf_map.READ
            person, issues = mapper.person(req, report.name)
            result.issues += issues
            if req.category in aaf_map.PERSONS:
                categories.add(req.category)
            if person is not None:
                result.people.append(person)
                if person.uai and settings.uais is None:
                    uais.add(person.uai)
        if ignored:
            result.issues.append(Issue("IMP-015", report.name,
                                       "not read: " + ", ".join(sorted(ignored))))
        if report.full:
            result.scopes |= {("aaf", c, u) for c in categories - {"PersRelEleve"}
                              for u in uais}


def _duplicates(result: Analysis) -> None:
    seen: dict[tuple[str, str], Incoming] = {}
    kept: list[Incoming] = []
    for person in result.people:
        ident = (person.source, person.key)
        if person.op == "add" and ident in seen and seen[ident].op == "add":
            other = seen[ident]
            result.issues.append(Issue(
                "IMP-003", person.file, f"also at {other.file}:{other.line}", person.line,
                person.key))
            continue
        seen[ident] = person
        kept.append(person)
    result.people = kept
