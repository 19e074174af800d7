"""Site file section `monitoring.probes` (D-SUP-1): the national services are probed by default;
a site adds its own targets (its ENT), and one named like a default replaces it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, model_validator

from appliance.site.base import Line, Name, Section

ProbePath = Literal["direct", "proxy"]


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// URL with a host name")
    if parts.username or parts.password:
        raise ValueError("must not carry a user name or password (the probe is anonymous)")
    try:
        parts.port  # noqa: B018 - urlsplit checks the port only when asked
    except ValueError as exc:
        raise ValueError(f"{value!r} has an invalid port") from exc
    if any(ch <= " " or ch == "\x7f" for ch in value):
        raise ValueError("must not contain spaces or control characters")
    return value


def _check_request_path(value: str) -> str:
    if not value.startswith("/") or any(ch <= " " or ch == "\x7f" for ch in value):
        raise ValueError(f"{value!r} is not a path on the target's site: start with '/', "
                         "no spaces")
    return value


Url = Annotated[str, AfterValidator(_check_url)]
"""An http:// or https:// URL."""


class LoginCheck(Section):
    """A second page of the target to fetch: its login page (CAS, SAML IdP...)."""

    path: Annotated[str, AfterValidator(_check_request_path)]
    """Path of the login page on the target's site, e.g. `/auth/login`."""
    expect: Line = Field(min_length=1)
    """Text the login page must contain (a form field's name, a title)."""


class Target(Section):
    """One service to probe: DNS, TCP, TLS and HTTP(S), through the proxy and direct."""

    name: Name
    """Service label of its metrics (`ent`, `educonnect`); a default of the same name is
    replaced."""
    url: Url
    """Page to fetch, e.g. `https://ent.auvergnerhonealpes.fr/`."""
    expect: Line | None = Field(default=None, min_length=1)
    """Text the page must contain (then only a 2xx answer succeeds; otherwise 2xx and 3xx do)."""
    login_check: LoginCheck | None = None
    """Also fetch the login page and look for a text in it."""
    paths: tuple[ProbePath, ...] = Field(default=("direct", "proxy"), min_length=1)
    """Through the school's proxy (as users see it), direct from the appliance, or both."""
    interval_seconds: int = Field(default=60, ge=10, le=3600)
    """Time between two probes (a random jitter of up to 10 % spreads them)."""
    timeout_seconds: int = Field(default=10, ge=1, le=60)
    """A probe that has not finished by then fails."""
    target_seconds: float = Field(default=1.5, gt=0, le=60)
    """Objective for the whole page, in seconds: the SDET's examples are 1 for a critical
    page and 1.5 for others."""

    @model_validator(mode="after")
    def _coherent(self) -> Target:
        if len(set(self.paths)) != len(self.paths):
            raise ValueError("paths lists a path twice")
        if self.timeout_seconds >= self.interval_seconds:
            raise ValueError(f"timeout_seconds ({self.timeout_seconds}) must be shorter than "
                             f"interval_seconds ({self.interval_seconds})")
        return self


# National services probed unless `defaults: false`. Each host was checked against a source
# (see DEFAULT_SOURCES); none is a guess from code seen elsewhere.
DEFAULT_TARGETS: tuple[Target, ...] = (
    # Pupils' and parents' login: every ENT sends them there, hence the critical objective.
    Target(name="educonnect", url="https://educonnect.education.gouv.fr/", target_seconds=1.0),
    Target(name="gar", url="https://gar.education.fr/"),
    Target(name="apps-education", url="https://apps.education.fr/"),
    Target(name="education-gouv", url="https://www.education.gouv.fr/"),
)
DEFAULT_SOURCES = {
    "educonnect": "académie de Nantes EduConnect FAQ (ac-nantes.fr) and ac-lyon.fr DANE pages",
    "gar": "SDET v6.2 footnote 11 (seed 001 l. 577)",
    "apps-education": "doctrine v1.1 footnote 8 (seed 000 l. 1324)",
    "education-gouv": "doctrine v1.1 (seed 000 l. 229) and SDET v6.2 (seed 001 l. 9808)",
}


class Probes(Section):
    """Probes from inside the school towards the ENT and the national services (D-SUP-1)."""

    defaults: bool = True
    """Probe the national services: ÉduConnect, GAR, apps.education.fr, education.gouv.fr."""
    targets: tuple[Target, ...] = ()
    """This site's own targets: its ENT, its vie scolaire..."""
    concurrency: int = Field(default=8, ge=1, le=64)
    """Probes running at the same time, at most."""
    gateway_ping: bool = True
    """Ping the uplink's gateway and trace the path beyond it (`carine_uplink_up`)."""
    ca_file: Path | None = None
    """CA bundle the TLS checks trust instead of the system's (a lab, a private ENT)."""

    @model_validator(mode="after")
    def _unique(self) -> Probes:
        names = [t.name for t in self.targets]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"target names must be unique: {', '.join(twice)} given twice")
        if self.ca_file is not None and not self.ca_file.is_absolute():
            raise ValueError(f"ca_file must be an absolute path, not {self.ca_file}")
        return self

    def effective_targets(self) -> tuple[Target, ...]:
        """The targets the prober runs: the site's own first, then the defaults it did not
        replace (unless `defaults: false`)."""
        own = {t.name for t in self.targets}
        base = DEFAULT_TARGETS if self.defaults else ()
        return self.targets + tuple(t for t in base if t.name not in own)
