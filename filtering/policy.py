"""The filtering decision: pure, table-tested, and always able to say why (D-FIL-2, D-FIL-6).

Layers, strongest first: national (cannot be loosened), school blocks, teacher openings, school
allows, the profile's time rules, then its allow-only list or blocked categories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from appliance.site.filtering import Filtering, FilterProfile, TimeRule

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Verdict:
    """A decision and its reason: what the block page shows and the access log records."""

    allowed: bool
    reason: str
    layer: str
    category: str = ""
    detail: str = ""

    @property
    def action(self) -> str:
        return "allow" if self.allowed else "block"


INTERNET = "*"  # an opening of this "domain" opens the whole internet for its zone


@dataclass(frozen=True)
class Opening:
    """A teacher opened ``domain`` (and its subdomains), or the whole internet (``INTERNET``),
    for a zone, until a time (D-FIL-6); the national layer and school blocks still apply."""

    domain: str
    zone: str
    until: datetime
    by: str = ""


def matching_domain(host: str, domains: frozenset[str]) -> str | None:
    """The listed domain that covers ``host`` (itself or a parent), if any."""
    if not domains:
        return None
    name = host
    while True:
        if name in domains:
            return name
        dot = name.find(".")
        if dot < 0:
            return None
        name = name[dot + 1:]


def relevant_categories(filtering: Filtering) -> frozenset[str]:
    """Every category some decision can depend on: a list match in any other category changes
    no verdict, so its expressions need not run."""
    names: set[str] = set()
    for prof in filtering.profiles.values():
        names.update(filtering.national.floor(prof.audience), prof.categories(),
                     prof.allowed_categories, *(r.categories for r in prof.time_rules))
    return frozenset(names)


def _clock_time(hhmm: str) -> timedelta:
    """A rule's HH:MM as the time since midnight (24:00 is the next midnight)."""
    hours, minutes = hhmm.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def _in_period(rule: TimeRule, now: datetime) -> bool:
    return DAYS[now.weekday()] in rule.days and rule.start <= now.strftime("%H:%M") < rule.end


def _first(ordered: Iterable[str], present: frozenset[str]) -> str:
    return next((c for c in ordered if c in present), "")


class Policy:
    """Decisions for one site's filtering section plus the runtime openings and exceptions."""

    def __init__(self, filtering: Filtering, openings: Sequence[Opening] = (),
                 allow_domains: Iterable[str] = (), block_domains: Iterable[str] = ()) -> None:
        self.filtering = filtering
        self.national_domains = frozenset(filtering.national.blocked_domains)
        self.school_allow = frozenset((*filtering.exceptions.allow_domains, *allow_domains))
        self.school_block = frozenset((*filtering.exceptions.block_domains, *block_domains))
        self.openings: dict[str, list[Opening]] = {}
        for opening in openings:
            self.openings.setdefault(opening.zone, []).append(opening)
        self.floors = {name: frozenset(filtering.national.floor(p.audience))
                       for name, p in filtering.profiles.items()}
        self.relevant = relevant_categories(filtering)
        # Hosts named by a layer: for every other host the verdict depends only on the
        # profile, the categories and the time, and is kept until next_change.
        self.named = frozenset((*self.national_domains, *self.school_block, *self.school_allow,
                                *(o.domain for o in openings if o.domain != INTERNET)))
        # Zones opened whole: their verdicts depend on the zone, which the memo does not key.
        self.open_zones = frozenset(o.zone for o in openings if o.domain == INTERNET)
        self._memo: dict[tuple[str, frozenset[str]], Verdict] = {}
        self._memo_since: datetime | None = None
        self._memo_until: datetime | None = None
        self._bounds = sorted({_clock_time(t) for p in filtering.profiles.values()
                               for r in p.time_rules for t in (r.start, r.end)})
        self._ends = sorted({o.until for o in openings})

    def next_change(self, now: datetime) -> datetime | None:
        """The first instant after ``now`` at which a decision could differ from the same one
        made at ``now`` (a time rule starts or ends, the day changes, an opening ends); None if
        no such instant exists. A decision cache must not serve an answer from that instant."""
        later = [until for until in self._ends if until > now]
        if self._bounds:
            midnight = datetime.combine(now.date(), time(), now.tzinfo)
            later += [midnight + timedelta(days=1)]
            later += [at for at in (midnight + offset for offset in self._bounds) if at > now]
        return min(later, default=None)

    def decide(self, profile: str, zone: str, host: str, categories: frozenset[str],
               now: datetime) -> Verdict:
        """Whether ``profile`` in ``zone`` may reach ``host`` (listed in ``categories``) now."""
        if zone in self.open_zones or matching_domain(host, self.named):
            return self._decide(profile, zone, host, categories, now)
        since, until = self._memo_since, self._memo_until
        if since is None or now < since or (until is not None and now >= until) \
                or len(self._memo) > 4096:
            self._memo.clear()
            self._memo_since, self._memo_until = now, self.next_change(now)
        verdict = self._memo.get((profile, categories))
        if verdict is None:
            verdict = self._memo[(profile, categories)] = \
                self._decide(profile, zone, host, categories, now)
        return verdict

    def _decide(self, profile: str, zone: str, host: str, categories: frozenset[str],
                now: datetime) -> Verdict:
        prof = self.filtering.profiles[profile]
        domain = matching_domain(host, self.national_domains)
        if domain:
            return Verdict(False, "national-domain", "national", detail=domain)
        floor = self.floors[profile] & categories
        if floor:
            cat = _first(self.filtering.national.floor(prof.audience), floor)
            return Verdict(False, "national-category", "national", cat)
        domain = matching_domain(host, self.school_block)
        if domain:
            return Verdict(False, "school-block", "school", detail=domain)
        opened = self._opening(zone, host, now)
        if opened:
            return Verdict(True, "teacher-opening", "teacher", detail=opened.domain)
        domain = matching_domain(host, self.school_allow)
        if domain:
            return Verdict(True, "school-allow", "school", detail=domain)
        return self._profile_verdict(prof, categories, now)

    def _opening(self, zone: str, host: str, now: datetime) -> Opening | None:
        for opening in self.openings.get(zone, ()):
            if opening.until > now and (opening.domain == INTERNET or
                                        matching_domain(host, frozenset((opening.domain,)))):
                return opening
        return None

    @staticmethod
    def _profile_verdict(prof: FilterProfile, categories: frozenset[str],
                         now: datetime) -> Verdict:
        blocked = list(prof.categories())
        for rule in (r for r in prof.time_rules if _in_period(r, now)):
            detail = rule.comment or f"{rule.start}-{rule.end}"
            if rule.action == "block":
                if not rule.categories:
                    return Verdict(False, "time-block", "profile", detail=detail)
                blocked += [c for c in rule.categories if c not in blocked]
            elif not rule.categories:
                return Verdict(True, "time-allow", "profile", detail=detail)
            else:
                blocked = [c for c in blocked if c not in rule.categories]
        if prof.allow_only:
            cat = _first(prof.allowed_categories, categories)
            if cat:
                return Verdict(True, "allowed-category", "profile", cat)
            return Verdict(False, "not-allowed", "profile")
        cat = _first(blocked, categories)
        if cat:
            return Verdict(False, "category", "profile", cat)
        return Verdict(True, "default", "profile")
