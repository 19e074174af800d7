"""One filtering decision for one proxied request: who is asking, what the lists say about the
host, what the policy decides, and a record of refusals. The Squid helper is a loop around it."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from appliance.clock import local_now
from appliance.errors import CarineError
from appliance.sessions.identity import IdentityLookup
from appliance.state import connect, data_version
from filtering import store
from filtering.answer import PLAIN, Answer
from filtering.answercache import AnswerCache, Site
from filtering.config import FilterConfig, ZoneInfo
from filtering.fastpath import FastLane
from filtering.policy import Opening, Policy, Verdict, matching_domain
from filtering.refusals import LISTED_PER_CLIENT, RefusalWriter

log = logging.getLogger("carine.filter")
IDENTITY_RECHECK = 0.05  # seconds between re-reads of the sessions for an unknown client
RELOAD_EVERY = timedelta(seconds=1)  # between checks for a new index or new openings


class Lists(Protocol):
    """What the decision needs from the compiled lists (filtering.index.Index)."""

    def lookup(self, host: str, path: str | None = None) -> frozenset[str]: ...

    def host_categories(self, host: str) -> tuple[frozenset[str], bool]:
        """(categories of the host's domain entries, whether URL entries lie under it)."""

    def path_categories(self, host: str, path: str | None, has_urls: bool = True
                        ) -> frozenset[str]:
        """Categories of the URL entries and expressions matching host + path."""

    def consider(self, categories: frozenset[str]) -> None:
        """Only ``categories`` matter to the decisions (the others may be left out)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Request:
    """The fields the Squid helper receives (already decoded)."""

    client: str
    user: str
    method: str
    host: str
    path: str
    sni: str


UNFILTERED = Answer(True, {"decision": "allow", "reason": "unfiltered-zone"}, cacheable=True)


def target_host(req: Request) -> str:
    """The name to judge: the TLS SNI when there is one, else the request's host, normalised."""
    host = (req.sni or req.host).strip().lower()
    if host.startswith("[") or host.count(":") > 1:  # IPv6 literal
        return host
    host = (host.rsplit(":", 1)[0] if ":" in host else host).rstrip(".")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return host


class Decider:
    """Decisions with their inputs kept fresh: the index file and the store are re-read when
    they change (checked at most once a second), without restarting anything."""

    def __init__(self, config: FilterConfig, open_lists: Callable[[Path], Lists],
                 clock: Callable[[], datetime] | None = None) -> None:
        self.config = config
        self.open_lists = open_lists
        # Aware, in the school's zone: time rules are wall times, stored times become UTC.
        self.clock = clock or local_now(config.timezone)
        self.lists: Lists | None = None
        self.lists_stamp: tuple[int, int] | None = None
        self.conn: sqlite3.Connection | None = None
        self.store_version = -1
        self.policy_inputs: tuple[list[Opening], list[str], list[str]] | None = None
        self.policy = Policy(config.filtering)
        self.cache = AnswerCache()
        # Who is behind an address (portal, 802.1X, devices): their profile beats the zone's.
        self.identity = IdentityLookup(config.store)
        self.as_profile: dict[tuple[str, str], ZoneInfo] = {}
        self.identity_checked = 0.0
        self.last_site: Site | None = None  # the site of the last decision (for the helper)
        self.last_group: str | None = None  # and whose answers it joins (see decide)
        # The compiled lane (filtering.fastpath) answers what Python has already decided; the
        # categories of the last decision, when its answer depends on nothing else.
        self.lane: FastLane | None = None
        self.last_categories: frozenset[str] | None = None
        self.next_check: datetime | None = None
        # Refusals wait here and reach the store in one transaction per second, written by a
        # thread of their own: a commit per refusal would cost more than the decision itself.
        self.pending: dict[tuple[str, str], tuple[str, str, str, datetime]] = {}
        self.refusals = RefusalWriter(config.store)
        self.listed: dict[str, int] = {}  # new hosts listed per client since the last flush
        self.unlisted = 0
        self.unlisted_told = -60.0
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> datetime:
        """Keep the inputs fresh (index and store checked once a second, the cache at every
        call); returns the instant the caller's batch of requests is decided at."""
        now = self.clock()
        if not self.cache.valid(now):
            self._reset(now)
        if force or self.next_check is None or not (now < self.next_check) \
                or now < self.next_check - RELOAD_EVERY:  # the clock went back
            self.next_check = now + RELOAD_EVERY
            self.flush(wait=False)
            self._refresh_lists(now)
            self._refresh_policy(now)
            self._refresh_identity(now)
        return now

    def _reset(self, now: datetime) -> None:
        """Forget every cached answer: an input changed, or the policy's clock moved on.

        The new answers hold until the policy's next change or the first session's absolute
        end (after which its address gets the zone's profile again), whichever comes first."""
        until = self.policy.next_change(now)
        stamp = now.timestamp()
        ends = [i.expires_at for i in self.identity.by_ip.values() if i.expires_at > stamp]
        if ends:
            end = datetime.fromtimestamp(min(ends), now.tzinfo)
            until = end if until is None else min(until, end)
        self.cache.reset(now, until)
        # Which group each address is in is forgotten too: at a session's end its address goes
        # back to the zone's answers, while the login's other devices keep theirs.
        self.cache.clients.clear()
        if self.lane is not None:  # it forgets with the cache, and learns the new policy's hosts
            self.lane.forget_answers()
            self.lane.forget_clients()
            self.lane.set_named(self.policy.named)

    def _refresh_lists(self, now: datetime) -> None:
        try:
            st = self.config.index.stat()
        except OSError:
            if self.lists is None:
                log.error("no filtering index at %s: filtered zones are refused (fail closed)",
                          self.config.index)
            return
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp == self.lists_stamp:
            return
        try:
            lists = self.open_lists(self.config.index)
        except CarineError as exc:
            log.error("cannot use the new index: %s; keeping the previous one", exc.message)
            self.lists_stamp = stamp
            return
        if self.lists is not None:
            self._take_lane_refusals()
            self.lists.close()  # and its lane
        lists.consider(self.policy.relevant)
        self.lists, self.lists_stamp = lists, stamp
        build = getattr(lists, "fast_lane", None)
        self.lane = build(self.policy.relevant) if build is not None else None
        self._reset(now)
        log.info("filtering index loaded from %s", self.config.index)

    def _refresh_policy(self, now: datetime) -> None:
        try:
            if self.conn is None:
                self.conn = connect(self.config.store)
                # It writes refusals and reads exceptions: SQLite's default 2 MB page cache
                # would be most of a helper's private memory.
                self.conn.execute("PRAGMA cache_size = -256")
                store.prepare(self.conn)
            version = data_version(self.conn)
            if version == self.store_version:
                return
            # The store changed: maybe only refusals recorded by the other helpers, which must
            # not empty the caches; the policy is rebuilt only when its inputs differ.
            allow, block = store.exceptions(self.conn)
            inputs = (store.openings(self.conn, now), sorted(allow), sorted(block))
            self.store_version = version
            if inputs == self.policy_inputs:
                return
            self.policy = Policy(self.config.filtering, *inputs)
            self.policy_inputs = inputs
            self._reset(now)
        except (sqlite3.Error, CarineError) as exc:
            log.error("state store unavailable (%s): deciding without runtime exceptions", exc)
            self.conn = None

    def _refresh_identity(self, now: datetime) -> None:
        before = self.identity.version
        self.identity.refresh()
        if self.identity.version != before:
            # A login or a logout: answers kept for an address may now be someone else's.
            self._reset(now)

    def who(self, client: str, zone: ZoneInfo, now: datetime) -> tuple[ZoneInfo, str | None]:
        """``zone`` with the profile of ``client``'s session, and the session's login (the
        zone as it is, and None, when nobody is identified there)."""
        stamp = now.timestamp()
        found = self.identity.lookup(client, stamp) if self.identity.by_ip else None
        if found is None and not 0 <= stamp - self.identity_checked < IDENTITY_RECHECK:
            # Someone may have just logged in: a client's first request after its login must
            # get its own profile, not the zone's (one PRAGMA, at most every 50 ms).
            self.identity_checked = stamp
            self._refresh_identity(now)
            found = self.identity.lookup(client, stamp) if self.identity.by_ip else None
        if found is None:
            return zone, None
        if found.profile == zone.profile or found.profile not in self.config.filtering.profiles:
            return zone, found.login
        key = (zone.name, found.profile)
        seen = self.as_profile.get(key)
        if seen is None:
            seen = self.as_profile[key] = ZoneInfo(zone.name, zone.subnet, found.profile,
                                                   zone.gateway)
        return seen, found.login

    def group_of(self, client: str) -> str | None:
        """Whose cached answers ``client`` shares: its zone's, or its own login's."""
        zone = self.config.zone_of(client)
        if zone is None:
            return None
        _, login = self.who(client, zone, self.clock())
        return zone.name if login is None else f"{zone.name}@{login}"

    def decide(self, req: Request, now: datetime | None = None) -> Answer:
        """The answer to ``req`` at ``now`` (default: the clock); a refusal is recorded."""
        if now is None:
            now = self.clock()
        if not self.cache.valid(now):
            self._reset(now)
        zone = self.config.zone_of(req.client)
        self.last_categories = None
        if zone is None:  # a zone that is not filtered (direct internet) using the proxy
            self.last_group = None
            return UNFILTERED
        if self.lists is None:
            return Answer(False, {"decision": "block", "reason": "filter-unavailable",
                                  "profile": zone.profile, "message": "filter-unavailable"})
        zone, user = self.who(req.client, zone, now)
        # Whose cached answers this client shares (its zone's, or its login's): the helper
        # files the answer there without asking who it is again.
        self.last_group = zone.name if user is None else f"{zone.name}@{user}"
        host = target_host(req)
        # What every path of this host shares (its domain entries, and the answer when nothing
        # else matches) is kept: most new requests are a new path on a known host.
        key = (zone.name, zone.profile, host)  # a session's profile differs from the zone's
        site = self.cache.sites.get(key)
        if site is None:
            domain, has_urls = self.lists.host_categories(host)
            site = Site(host, domain, has_urls, self._answer(zone, host, domain, now))
            self.cache.keep_site(key, site)
        self.last_site = site
        path = "" if req.method == "CONNECT" or req.sni else req.path
        extra = self.lists.path_categories(host, path or None, site.has_urls)
        categories = site.domain | extra if extra else site.domain
        answer = site.answer if not extra else self._answer(zone, host, categories, now)
        # A host that a policy layer names gets an answer of its own: not one to share.
        self.last_categories = None if matching_domain(host, self.policy.named) else categories
        if answer.record is not None:
            self.record(req.client, answer.record, now)
        return answer if user is None else _with_user(answer, user)

    def path_answer(self, site: Site, path: str) -> Answer | None:
        """The answer for ``path`` on ``site`` when no URL entry or expression matches it
        (the site's own answer); None when one does (then the policy decides again)."""
        assert self.lists is not None  # a site exists only while lists do
        if self.lists.path_categories(site.host, path or None, site.has_urls):
            return None
        return site.answer

    def _answer(self, zone: ZoneInfo, host: str, categories: frozenset[str],
                now: datetime) -> Answer:
        verdict = self.policy.decide(zone.profile, zone.name, host, categories, now)
        shared = self.cache.shared.get((verdict, zone.profile))
        if shared is None:
            shared = self.cache.shared[(verdict, zone.profile)] = _answer(verdict, zone.profile)
        if verdict.allowed:
            return shared
        return Answer(False, shared.notes, True, (host, verdict.category, verdict.reason,
                                                   zone.profile), shared.words, shared.counted)

    def record(self, client: str, record: tuple[str, str, str, str], now: datetime) -> None:
        """Remember a refusal (host, category, reason, profile) for ``client``'s page."""
        # The client is in a filtered zone (an IPv4 subnet): no need to parse it again.
        key = (client, record[0])
        if key not in self.pending:
            listed = self.listed.get(client, 0)
            if listed >= LISTED_PER_CLIENT:
                self.unlisted += 1
                return
            self.listed[client] = listed + 1
        self.pending[key] = (*record[1:], now)

    def flush(self, wait: bool = True) -> None:
        """Hand the refusals seen since the last flush to the writer thread (the "recently
        blocked" page); ``wait`` until they are written."""
        if self.pending:
            self.refusals.submit(self.pending)
            self.pending = {}
        self.listed.clear()
        self._take_lane_refusals()
        self._tell_unlisted()
        if wait:
            self.refusals.wait()

    def _tell_unlisted(self) -> None:
        """Say, at most once a minute, how many refusals did not reach the lists."""
        if self.lane is not None:
            self.unlisted += self.lane.unlisted
            self.lane.unlisted = 0
        stamp = time.monotonic()
        if self.unlisted and stamp >= self.unlisted_told + 60:
            log.info("%d refusals not added to the recently blocked lists (more than %d new "
                     "hosts a second from one device); all were refused", self.unlisted,
                     LISTED_PER_CLIENT)
            self.unlisted, self.unlisted_told = 0, stamp

    def _take_lane_refusals(self) -> None:
        if self.lane is not None:
            when = self.clock()
            for text, records in self.lane.take_refusals():
                self.refusals.submit((text, records, when))

    def close(self) -> None:
        """Write the refusals still waiting, stop the writer, unmap the index."""
        self.flush(wait=False)
        self.refusals.close()
        if self.lists is not None:
            self.lists.close()
            self.lists, self.lane = None, None


def _answer(verdict: Verdict, profile: str) -> Answer:
    """The answer to give for ``verdict`` (any host: a refusal's record is added per host)."""
    notes = {"decision": verdict.action, "reason": verdict.reason, "layer": verdict.layer,
             "profile": profile, "category": verdict.category or "-"}
    if not verdict.allowed:
        notes["message"] = f"{verdict.reason}/{verdict.category or '-'}/{profile}"
    return Answer(verdict.allowed, notes, cacheable=True)


def _with_user(answer: Answer, user: str) -> Answer:
    """``answer`` naming ``user`` to Squid (user=, logged as %un in the access log)."""
    name = user if PLAIN.fullmatch(user) else quote(user, safe="/-_.:")
    return Answer(answer.ok, answer.notes, answer.cacheable, answer.record,
                  answer.words[:-1] + b" user=" + name.encode() + b"\n", answer.counted)
