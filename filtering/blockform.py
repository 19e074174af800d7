"""The block page's input, trusted for nothing: the reason and URL Squid passes in the redirect,
and the unblock requests browsers post. Refusals are BadInput errors worded for the user."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from appliance.errors import CarineError
from filtering.names import normalise_domain
from filtering.wording import BLOCK_REASONS, NATIONAL, REQUESTABLE, explain

MAX_URL = 2000
MAX_COMMENT = 500
_CATEGORY = re.compile(r"[a-z0-9_.-]{1,64}")
_PROFILE = re.compile(r"[a-z0-9_-]{1,32}")
# Line breaks and tabs are kept in a comment; other control characters have no business there.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
AGAIN = "Revenez à la page de blocage et recommencez."


class BadInput(CarineError):
    """A request the block page refuses (HTTP 400); message and hint are for the user, in
    French. Nothing is recorded."""


@dataclass(frozen=True)
class Message:
    """What the filter helper said about a block: ``reason/category/profile``."""

    reason: str = ""
    category: str = ""
    profile: str = ""


def parse_message(text: str | None) -> Message:
    """The helper's message; anything unexpected gives the empty (generic) message, since the
    query string is only as trustworthy as whoever typed it. A bare reason is accepted: the
    helper says just ``filter-unavailable`` when it has no index to judge with."""
    parts = (text or "").split("/")
    if len(parts) > 3 or parts[0] not in BLOCK_REASONS:
        return Message()
    reason, category, profile = (*parts, "", "")[:3]
    return Message(reason,
                   category if category != "-" and _CATEGORY.fullmatch(category) else "",
                   profile if _PROFILE.fullmatch(profile) else "")


def host_of(url: str) -> str | None:
    """The host of an http(s) URL in the filter's normal form (lowercase, punycode), or None."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme not in ("http", "https") or not host:
        return None
    try:
        return normalise_domain(host)
    except ValueError:
        return None


def form_url(url: str) -> str:
    """The URL as the request form may carry it: too long or not a web address, it is dropped
    (the host alone is enough for the referent)."""
    return url if len(url) <= MAX_URL and host_of(url) else ""


@dataclass(frozen=True)
class Demand:
    """A validated unblock request, ready for ``filtering.store.request_unblock``."""

    host: str
    url: str
    category: str
    reason: str
    comment: str

    def as_recorded(self, category: str, reason: str) -> Demand:
        """The request with the reason the filter recorded, which beats what the form claims."""
        _check_reason(reason)
        return replace(self, category=category, reason=reason)


def _check_reason(reason: str) -> None:
    if reason in NATIONAL:
        raise BadInput(explain(reason).no_request,
                       "Si vous pensez que c'est une erreur, parlez-en au référent numérique.")
    if reason not in REQUESTABLE:
        raise BadInput("Ce blocage ne peut pas faire l'objet d'une demande de déblocage.", AGAIN)


def read_demand(form: Mapping[str, str]) -> Demand:
    """The posted request, validated field by field."""
    try:
        host = normalise_domain(form.get("host", "")[:300])
    except ValueError:
        raise BadInput("L'adresse du site n'est pas valide.", AGAIN) from None
    url = form.get("url", "")
    if len(url) > MAX_URL:
        raise BadInput(f"L'adresse de la page est trop longue ({MAX_URL} caractères au plus).",
                       AGAIN)
    if url and host_of(url) != host:
        raise BadInput("L'adresse de la page ne correspond pas au site.", AGAIN)
    category = form.get("category", "")
    if category and not _CATEGORY.fullmatch(category):
        raise BadInput("La catégorie indiquée n'est pas valide.", AGAIN)
    reason = form.get("reason", "")
    _check_reason(reason)
    # Browsers send a textarea's line breaks as CRLF but count them as one character.
    comment = _CONTROL.sub("", form.get("comment", "").replace("\r\n", "\n")).strip()
    if len(comment) > MAX_COMMENT:
        raise BadInput(f"Le commentaire dépasse {MAX_COMMENT} caractères "
                       f"({len(comment)} caractères).", "Raccourcissez-le puis recommencez.")
    return Demand(host, url, category, reason, comment)
