"""The filtering section of the site file (D-FIL-*): profiles, time rules, the national layer a
school cannot loosen, the school's own exceptions, and the proxy's ports."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from appliance.site.base import Line, Name, Port, Section


class Audience(StrEnum):
    """Who a filtering profile is for; pupils get the strictest national floor (D-FIL-2)."""

    PUPIL = "pupil"
    STAFF = "staff"
    GUEST = "guest"


# D-FIL-3: circumvention categories are always blocked for pupils.
CIRCUMVENTION = ("redirector", "vpn", "doh", "remote-control")
PUPIL_CATEGORIES = (
    "adult", "agressif", "dangerous_material", "dating", "drogue", "gambling", "games", "hacking",
    "malware", "phishing", "mixed_adult", "sect", "warez", *CIRCUMVENTION,
)  # fmt: skip
STAFF_CATEGORIES = ("adult", "malware", "phishing", "hacking")
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
                       r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


def _check_domain(value: str) -> str:
    value = value.strip().lower().removesuffix(".")
    if not DOMAIN_RE.match(value):
        raise ValueError(f"{value!r} is not a domain name (e.g. exemple.fr)")
    return value


def _check_hhmm(value: str) -> str:
    if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]|24:00", value):
        raise ValueError(f"{value!r} is not a time of day (HH:MM, 00:00 to 24:00)")
    return value


Domain = Annotated[str, AfterValidator(_check_domain)]
"""A domain name; it covers its subdomains."""
HourMinute = Annotated[str, AfterValidator(_check_hhmm)]
"""A time of day, HH:MM."""


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


SCHOOL_DAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


class TimeRule(Section):
    """During these hours, allow or block some categories, or the whole internet (D-AUT-6)."""

    days: tuple[Weekday, ...] = Field(default=SCHOOL_DAYS, min_length=1)
    """Days the rule applies (mon ... sun)."""
    start: HourMinute
    """Start of the period, HH:MM."""
    end: HourMinute
    """End of the period (excluded), HH:MM."""
    action: Literal["allow", "block"]
    """allow or block what the rule covers."""
    categories: tuple[str, ...] = ()
    """UT1 categories the rule covers; empty: every site."""
    comment: Line = ""
    """Why the rule exists."""


class FilterProfile(Section):
    """A filtering profile: who it is for and what it may reach."""

    audience: Audience
    """pupil, staff or guest."""
    blocked_categories: tuple[str, ...] | None = None
    """UT1 categories to block; default: the audience's list (circumvention always, for pupils)."""
    allow_only: bool = False
    """Allow only `allowed_categories` and the school's allowed domains (young pupils)."""
    allowed_categories: tuple[str, ...] = ()
    """With allow_only: the UT1 categories that are reachable (e.g. `child`, `liste_blanche`)."""
    time_rules: tuple[TimeRule, ...] = ()
    """Rules by day and hour, applied in order while they match: `block` adds categories (every
    site if none), `allow` lifts them (every category if none)."""
    safesearch: bool = True
    """Force SafeSearch on search engines and YouTube by DNS (D-FIL-4)."""

    def categories(self) -> tuple[str, ...]:
        """The profile's own blocked categories (the national floor comes on top)."""
        if self.blocked_categories is not None:
            return self.blocked_categories
        return STAFF_CATEGORIES if self.audience is Audience.STAFF else PUPIL_CATEGORIES


def _default_profiles() -> dict[str, FilterProfile]:
    return {
        "eleve": FilterProfile(audience=Audience.PUPIL),
        "enseignant": FilterProfile(audience=Audience.STAFF),
        "personnel": FilterProfile(audience=Audience.STAFF),
        "invite": FilterProfile(audience=Audience.GUEST),
    }


class National(Section):
    """The académie's and the ministry's layer: what no school exception can open (D-FIL-2)."""

    pupil_categories: tuple[str, ...] = ("adult", "malware", "phishing", *CIRCUMVENTION)
    """Always blocked for pupils and guests (D-FIL-3 circumvention included)."""
    all_categories: tuple[str, ...] = ("malware", "phishing")
    """Always blocked for everyone."""
    blocked_domains: tuple[Domain, ...] = ()
    """Domains the académie blocks for every profile."""

    def floor(self, audience: Audience) -> tuple[str, ...]:
        """Categories no exception can open for ``audience``."""
        extra = () if audience is Audience.STAFF else self.pupil_categories
        return tuple(dict.fromkeys((*self.all_categories, *extra)))


class Exceptions(Section):
    """The school's own decisions, for every profile (the console adds more at runtime)."""

    allow_domains: tuple[Domain, ...] = ()
    """Reachable whatever their category (never against the national layer)."""
    block_domains: tuple[Domain, ...] = ()
    """Blocked whatever their category."""


class Proxy(Section):
    """Ports of the filtering proxy (Squid) on the appliance."""

    port: Port = 3128
    """Explicit proxy port (browsers configured by policy or WPAD)."""
    intercept_http: Port = 3129
    """Port that receives redirected plain HTTP."""
    intercept_https: Port = 3130
    """Port that receives redirected HTTPS (peeked for SNI, then spliced: never decrypted)."""
    memory_cache_mb: int = Field(default=256, ge=0, le=16384)
    """Squid's memory cache size."""
    helpers: int = Field(default=4, ge=1, le=64)
    """Filtering helper processes at most (they share one mapped index)."""
    decision_cache_seconds: int = Field(default=10, ge=0, le=3600)
    """How long Squid reuses a decision: a teacher's opening or its end takes this long at most."""


class Filtering(Section):
    """Filtering for minors (D-FIL-*): profiles, proxy, DNS-level filtering."""

    enabled: bool = True
    """Run the filtering proxy."""
    proxy: Proxy = Proxy()
    """Proxy ports, cache and helpers."""
    profiles: dict[Name, FilterProfile] = Field(default_factory=_default_profiles)
    """Filtering profiles by name (`eleve`, `enseignant`, ...)."""
    national: National = National()
    """The layer a school cannot loosen."""
    exceptions: Exceptions = Exceptions()
    """The school's own allowed and blocked domains."""
    block_page_port: Port = 8088
    """Port of the block page on the appliance (HTTP blocks are redirected there)."""
