"""Phase 2, prepare: compare what the files say with the directory and list the changes (create,
update, deactivate, reactivate, no-op), with logins for new accounts. Reads, never writes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace

from appliance.directory import logins, passwords
from appliance.imports import current
from appliance.imports.analyse import Analysis
from appliance.imports.codes import Issue
from appliance.imports.current import Known
from appliance.imports.model import Incoming, Settings

ACTIONS = ("create", "update", "reactivate", "deactivate", "noop")
FIELDS = ("last_name", "first_name", "birth_date", "email", "profile", "uai", "category")
GUARD_MIN_POPULATION = 20  # below this, a few departures are a large share and still normal


@dataclass
class Change:
    action: str
    source: str
    category: str
    key: str
    profile: str
    login: str | None
    target: Incoming | None = None  # the person as they will be (create, update, reactivate)
    person_id: int | None = None
    changed: tuple[str, ...] = ()
    password: str | None = field(default=None, repr=False)  # create only, never logged
    file: str = ""
    line: int | None = None


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def count(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def applicable(self) -> list[Change]:
        return [c for c in self.changes if c.action != "noop"]


def _as_incoming(k: Known) -> Incoming:
    return Incoming("", None, "add", k.source, k.category, k.key, k.uai, k.last_name,
                    k.first_name, k.birth_date, k.email, k.profile, k.classes, k.groups)


def _overlay(base: Incoming, mod: Incoming) -> Incoming:
    """A modification applied to a person: only the attributes it carries change."""
    given = {name: getattr(mod, name) for name in (*FIELDS, "classes", "groups")
             if getattr(mod, name) is not None}
    return replace(base, file=mod.file, line=mod.line, op="add", **given)


def _codes(p: Incoming) -> frozenset[str]:
    return frozenset((p.classes or ()) + (p.groups or ()))


def prepare(conn: sqlite3.Connection, analysis: Analysis, settings: Settings,
            force: bool = False) -> Plan:
    """The changes that would bring the directory to what ``analysis`` read."""
    plan = Plan()
    known = current.load(conn)
    targets: dict[tuple[str, str], Incoming | None] = {}  # None: deleted
    for person in analysis.people:
        ident = (current.namespace(person.source), person.key)
        previous = known.get(ident)
        if previous is not None and previous.source != person.source:
            plan.issues.append(Issue("IMP-012", person.file, f"already a {previous.source} "
                                     "person", person.line, person.key))
            continue
        if person.op == "delete":
            targets[ident] = None
            continue
        if person.op == "modify":
            base = targets.get(ident) or (_as_incoming(previous) if previous else None)
            if base is None:
                plan.issues.append(Issue("IMP-010", person.file, "modification of an unknown "
                                         "person", person.line, person.key))
                continue
            person = _overlay(base, person)
        targets[ident] = person
    reserved: set[str] = set()
    for ident, target in targets.items():
        plan.changes.append(_change(conn, known.get(ident), target, ident[1], reserved))
    seen = set(targets)
    for ident, k in known.items():
        if ident not in seen and k.active and (k.source, k.category, k.uai) in analysis.scopes:
            plan.changes.append(Change("deactivate", k.source, k.category, k.key, k.profile,
                                       k.login, person_id=k.id))
    if not force:
        plan.issues += _guard(known, plan, analysis, settings)
    return plan


def _change(conn: sqlite3.Connection, k: Known | None, target: Incoming | None, key: str,
            reserved: set[str]) -> Change:
    if target is None:
        if k is None or not k.active:
            return Change("noop", k.source if k else "", k.category if k else "", key,
                          k.profile if k else "", k.login if k else None)
        return Change("deactivate", k.source, k.category, k.key, k.profile, k.login,
                      person_id=k.id)
    base = Change("noop", target.source, target.category, key, target.profile or "",
                  k.login if k else None, target, k.id if k else None, (), None, target.file,
                  target.line)
    if k is None:
        base.action = "create"
        base.login = logins.allocate(conn, target.first_name or "", target.last_name or "",
                                     reserved)
        base.password = passwords.initial_password()
        return base
    changed = tuple(f for f in FIELDS if getattr(target, f) != getattr(k, f))
    if _codes(target) != k.codes:
        changed += ("classes",)
    base.changed = changed
    if not k.active:
        base.action = "reactivate"
    elif changed:
        base.action = "update"
    return base


def _guard(known: dict[tuple[str, str], Known], plan: Plan, analysis: Analysis,
           settings: Settings) -> list[Issue]:
    """IMP-020 when a full file would deactivate too large a share of a population."""
    issues = []
    for scope in sorted(analysis.scopes, key=str):
        population = sum(1 for k in known.values()
                         if k.active and (k.source, k.category, k.uai) == scope)
        leaving = sum(1 for c in plan.changes if c.action == "deactivate"
                      and c.person_id is not None and (c.source, c.category) == scope[:2]
                      and _uai_of(known, c) == scope[2])
        if population >= GUARD_MIN_POPULATION and \
                leaving * 100 > population * settings.max_deactivate_percent:
            issues.append(Issue("IMP-020", ", ".join(f.name for f in analysis.files),
                                f"{leaving} of {population} {scope[1]} of {scope[2] or '-'} "
                                f"would be deactivated (limit "
                                f"{settings.max_deactivate_percent} %)"))
    return issues


def _uai_of(known: dict[tuple[str, str], Known], change: Change) -> str | None:
    k = known.get((current.namespace(change.source), change.key))
    return k.uai if k else None
