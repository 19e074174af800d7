"""Whole /metrics answers made ahead of scrapes by a background thread, one per format scrapers
asked for (content type, gzip or not), so that a scrape only picks bytes already made."""

from __future__ import annotations

import gzip
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

log = logging.getLogger("carine.exporter")
# Frequent scrapes (up to REFRESH + LEAD apart) get values remade every REFRESH seconds, so at
# most about 2 x REFRESH old; sparser ones (Prometheus: every 15-60 s) get one making each, LEAD
# seconds before the scrape is due. Never older than MAX_AGE: past it a scrape makes its own.
REFRESH = 3.0
LEAD = 1.0
MAX_AGE = 10.0
INTERVALS = 8  # the scrape interval is the shortest of the last this many
# A making holds the GIL for milliseconds and, on busy cores, may be preempted holding it: a
# scrape arriving then waits for it. With frequent scrapes the maker starts SETTLE seconds after
# one (its answer written), as far as can be from the next.
SETTLE = 0.05
IDLE_AFTER = 600.0  # no scrape for this long: stop making answers nobody reads
MAX_FORMATS = 8  # formats kept made ahead; others are made at each scrape
GZIP_LEVEL = 1  # 1 ms instead of 5 (level 9) for ~190 KB, a third bigger
Format = tuple[str, bool]  # (content type, gzip)


class Bodies:
    """The answers, each with the (monotonic) time its values were read. An answer is replaced
    whole by a new dictionary: a scrape during a making gets the previous one, never a mix."""

    def __init__(self, render: Callable[[str], bytes], *, refresh: float = REFRESH,
                 max_age: float = MAX_AGE, idle_after: float = IDLE_AFTER,
                 settle: float = SETTLE, clock: Callable[[], float] = time.monotonic) -> None:
        """``render``: the uncompressed answer for a content type, read now."""
        if not 0 < refresh < max_age < idle_after:
            raise ValueError("need 0 < refresh < max_age < idle_after")
        self.render, self.clock = render, clock
        self.refresh, self.max_age, self.idle_after = refresh, max_age, idle_after
        self.settle = settle
        self.made: dict[Format, tuple[float, bytes]] = {}
        self.wanted: frozenset[Format] = frozenset()
        self.asked = -math.inf  # when a scrape last asked
        self.intervals: deque[float] = deque(maxlen=INTERVALS)  # between scrapes
        self.made_at = -math.inf  # when the maker last read the values
        self.lock = threading.Lock()  # one making at a time: the collectors are not reentrant
        self.wake = threading.Event()  # a scrape after the maker fell idle
        self.scraped = threading.Event()

    def get(self, content_type: str, zipped: bool) -> bytes:
        """The answer made ahead, or one made now if there is none young enough."""
        now = self.clock()
        if self.asked > -math.inf:
            self.intervals.append(now - self.asked)
        self.asked = now
        self.scraped.set()
        entry = self.made.get((content_type, zipped))
        if entry is not None and now - entry[0] <= self.max_age:
            return entry[1]
        self.wake.set()  # the maker sleeps if nobody scraped for a while
        fmt = (content_type, zipped)
        if fmt not in self.wanted and len(self.wanted) < MAX_FORMATS:
            self.wanted = self.wanted | {fmt}
        return self.make(fmt)

    def make(self, only: Format | None = None) -> bytes:
        """Make every wanted answer (``only`` that one, for a scrape that cannot wait for the
        maker); return ``only``'s."""
        with self.lock:
            read_at = self.clock()
            if only is not None:  # made by another thread while this one waited for the lock
                entry = self.made.get(only)
                if entry is not None and read_at - entry[0] <= self.max_age:
                    return entry[1]
            formats = self.wanted if only is None else {only}
            plain = {ctype: self.render(ctype) for ctype in {ctype for ctype, _ in formats}}
            made = {f: e for f, e in self.made.items() if f in self.wanted}
            for ctype, zipped in formats:
                body = plain[ctype]
                made[(ctype, zipped)] = (read_at, gzip.compress(body, GZIP_LEVEL, mtime=0)
                                         if zipped else body)
            self.made = made
            if only is None:
                self.made_at = read_at
        return made[only][1] if only is not None else b""

    def due(self) -> float:
        """When the maker should read the values next: ``refresh`` after the last making, or,
        when scrapes are further apart, LEAD before the next one expected (regular, as
        Prometheus makes them: reading more often would be work nobody gets)."""
        due = self.made_at + self.refresh
        interval = min(self.intervals, default=0.0)
        if interval > self.refresh + LEAD:
            expected = self.asked + interval
            while expected - LEAD <= self.made_at:  # already made for that one
                expected += interval
            due = max(due, expected - LEAD)
        return due

    def run(self) -> None:
        """Make the answers when due while scrapes come, forever."""
        while True:
            now = self.clock()
            if now - self.asked > self.idle_after:
                self.wake.clear()
                if self.clock() - self.asked > self.idle_after:  # not asked since: sleep
                    self.wake.wait()
                time.sleep(self.refresh)  # the scrape that woke us made its own answer
                continue
            due = self.due()
            if now < due or not self.wanted:  # look again soon: a scrape may change `due`
                time.sleep(min(max(due - now, 0.0), self.refresh) or self.refresh)
                continue
            if min(self.intervals, default=math.inf) <= self.refresh + LEAD:
                self.scraped.clear()  # frequent scrapes: wait for the next one to be answered
                if self.scraped.wait(self.refresh + LEAD):
                    time.sleep(self.settle)
            try:
                self.make()
            except Exception:  # a scrape makes its own then, and says what is wrong
                log.exception("cannot make the metrics answers ahead of scrapes")
                time.sleep(self.refresh)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="metrics-maker", daemon=True)
        thread.start()
        return thread
