"""Answers the filtering helper already gave, reused while they cannot change: the same request
from the same zone gets the same answer until the lists, the store or the policy's clock move.

Squid caches answers too, but per client address (%>a is in its key); this cache is per zone,
so one pupil's request answers the next pupil's. Everything is dropped at once when any input
changes (new index, new openings or exceptions, a time rule or opening boundary, a clock that
goes back): an answer is never served past the instant it could differ."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from filtering.answer import Answer

# Request lines kept (about 0.5 MB); then they are dropped and relearnt. Most requests are
# answered by the compiled lane before they get here (filtering.fastpath).
LIMIT = 4_000
SITES = 3_000  # (zone, host) kept
CLIENTS = 65_536  # a school has a few thousand devices


class Site(NamedTuple):
    """What every request to one host from one zone shares, whatever its path."""

    host: str  # normalised
    domain: frozenset[str]  # categories of its domain entries
    has_urls: bool  # whether URL entries lie under it (else only expressions see the path)
    answer: Answer  # the answer when no URL entry or expression matches the path


class ZoneAnswers:
    """One zone's cached answers, by the request line after the client address (user, method,
    host, path, SNI as Squid sent them), and by the same line without its path (plain HTTP)."""

    __slots__ = ("lines", "sites")

    def __init__(self) -> None:
        self.lines: dict[bytes, Answer] = {}
        self.sites: dict[bytes, Site] = {}


class AnswerCache:
    """Request lines (the helper's hot path: a line seen before is not even parsed), lines
    without their path (a new path on a known host: only the path is looked at), and sites
    by (zone, host)."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        # Client address as Squid sends it -> its zone's answers.
        self.clients: dict[bytes, ZoneAnswers] = {}
        self._zones: dict[str | None, ZoneAnswers] = {}
        self.sites: dict[tuple[str, str, str], Site] = {}
        # One answer per verdict and profile: refusals only add their host to it.
        self.shared: dict[tuple[object, str], Answer] = {}
        self.size = 0
        self.since: datetime | None = None
        self.until: datetime | None = None

    def valid(self, now: datetime) -> bool:
        """Whether answers cached since ``since`` still hold at ``now``."""
        if self.since is None or now < self.since:  # never filled, or the clock went back
            return False
        return self.until is None or now < self.until

    def reset(self, now: datetime, until: datetime | None) -> None:
        """Drop every answer; new ones hold from ``now`` until ``until`` (None: no limit)."""
        self._drop()
        self.since, self.until = now, until

    def _drop(self) -> None:
        for answers in self._zones.values():  # in place: self.clients keeps pointing at them
            answers.lines.clear()
            answers.sites.clear()
        self.sites.clear()
        self.shared.clear()
        self.size = 0

    def zone(self, client: bytes, zone: str | None) -> ZoneAnswers:
        """The answers of ``zone``, now also found by ``client``'s address."""
        answers = self.clients.get(client)
        if answers is None:
            answers = self._zones.get(zone)
            if answers is None:
                answers = self._zones[zone] = ZoneAnswers()
            if len(self.clients) >= CLIENTS:
                self.clients.clear()
            self.clients[client] = answers
        return answers

    def learn(self, answers: ZoneAnswers, rest: bytes, answer: Answer,
              pathless: bytes = b"", site: Site | None = None) -> None:
        """Remember ``answer`` to the line ``rest`` (after the client), and ``site`` for the
        line without its path, ``pathless``."""
        if self.size >= self.limit:
            self._drop()  # cheaper than an LRU's bookkeeping on every hit
        answers.lines[rest] = answer
        self.size += 1
        if site is not None:
            answers.sites[pathless] = site
            self.size += 1

    def keep_site(self, key: tuple[str, str, str], site: Site) -> None:
        if len(self.sites) >= SITES:
            self.sites.clear()
        self.sites[key] = site
