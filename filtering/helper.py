"""The Squid external ACL helper: reads request lines on stdin, answers OK or ERR on stdout.

Squid's protocol with concurrency: each line is ``CHANNEL client user method host path sni``
(fields %-encoded, "-" when empty); each answer is ``CHANNEL OK|ERR key=value...``. Lines are
read in whole chunks and answered in one write, so a busy Squid costs one syscall per batch."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import select
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

from appliance.errors import CarineError
from filtering.answer import Answer
from filtering.answercache import ZoneAnswers
from filtering.config import FilterConfig
from filtering.counters import Counters
from filtering.decide import Decider, Lists, Request

log = logging.getLogger("carine.filter")
FIELDS = 6


def _field(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    if "%" in text:
        text = unquote(text)
    return "" if text == "-" else text


def parse(line: bytes) -> tuple[bytes, Request | None]:
    """The channel id and the request of one line (None when the line is malformed)."""
    parts = line.split()
    if not parts:
        return b"", None
    # Squid appends the acl line's own arguments ("-" when there are none): ignore them.
    if len(parts) < FIELDS + 1:
        return parts[0], None
    values = [_field(p) for p in parts[1:FIELDS + 1]]
    return parts[0], Request(*values)


def format_answer(channel: bytes, answer: Answer) -> bytes:
    return channel + answer.words


def serve(decider: Decider, read: Callable[[int], bytes | None],
          write: Callable[[bytes], object],
          chunk: int = 1 << 16, counters: Counters | None = None) -> int:
    """Answer every line until end of input; returns how many lines were answered."""
    pending = b""
    answered = 0
    counters = counters or Counters(None)
    while True:
        data = read(chunk)
        if data is None:  # idle: the refusals recorded, the index and openings re-checked
            decider.refresh()
            counters.flush()
            continue
        if not data:
            counters.flush(force=True)
            decider.flush()
            return answered
        pending += data
        cut = pending.rfind(b"\n") + 1
        if not cut:
            continue
        batch, pending = pending[:cut], pending[cut:]
        out: list[bytes] = []
        answered += answer_batch(decider, batch, out, counters)
        if out:
            write(b"".join(out))
        counters.flush()


def answer_batch(decider: Decider, batch: bytes, out: list[bytes], counters: Counters) -> int:
    """Append the answers to the whole lines of ``batch`` to ``out``; returns how many were
    answered. The compiled lane answers what it was taught, Python the rest, all at one instant
    (Squid pairs answers with requests by channel id, so their order does not matter)."""
    now = decider.refresh()
    lane = decider.lane
    if lane is None:
        return answer_lines(decider, batch.split(b"\n")[:-1], out, counters, now)
    started = time.perf_counter()
    answers, leftovers, tally = lane.answer(batch)
    if answers:
        out.append(answers)
    answered = 0
    if tally:
        answered = counters.cached(lane.counted(tally), time.perf_counter() - started)
    if leftovers:
        answered += answer_lines(decider, leftovers, out, counters, now)
    return answered


def answer_lines(decider: Decider, lines: list[bytes], out: list[bytes],
                 counters: Counters, now: datetime | None = None) -> int:
    """Append the answer to each of ``lines`` to ``out``; returns how many were answered.

    The whole batch is decided at one instant. A line already answered for a client of the
    same zone is answered from the cache without being parsed (the hot path: keep it short);
    a plain HTTP line whose host is known needs only its path looked at; the others go through
    ``decide`` and are timed one by one. ``now`` is the batch's instant (default: a refresh)."""
    if now is None:
        now = decider.refresh()
    clients = decider.cache.clients
    tally: dict[tuple[str, str, str], int] = {}
    clock = time.perf_counter
    started = clock()
    slow = 0.0
    answered = 0
    for line in lines:
        parts = line.split(b" ", 2)
        if len(parts) == 3:
            answers = clients.get(parts[1])
            if answers is not None:
                answer = answers.lines.get(parts[2])
                if answer is None:
                    answer = _known_site(decider, answers, parts[2])
                if answer is not None:
                    out.append(parts[0] + answer.words)
                    tally[answer.counted] = tally.get(answer.counted, 0) + 1
                    if answer.record is not None:
                        decider.record(parts[1].decode(), answer.record, now)
                    continue
        began = clock()
        answered += _decide_line(decider, line, parts, now, out, counters)
        slow += clock() - began
    if tally:
        answered += counters.cached(tally, clock() - started - slow)
    return answered


def _pathless(rest: bytes) -> tuple[bytes, bytes] | None:
    """(the line after the client without its path, the path as sent) for a plain HTTP line
    whose fields need no decoding; None for any other line."""
    fields = rest.split(b" ", 4)
    if len(fields) < 5 or fields[1] == b"CONNECT" or fields[4][:1] != b"-" \
            or fields[4][1:2] not in (b"", b" ") or b"%" in fields[3]:
        return None
    return b" ".join((fields[0], fields[1], fields[2], fields[4])), fields[3]


def _known_site(decider: Decider, answers: ZoneAnswers, rest: bytes) -> Answer | None:
    """The answer to a plain HTTP line for a host already decided, when its new path matches
    no URL entry or expression; else None."""
    split = _pathless(rest)
    if split is None:
        return None
    site = answers.sites.get(split[0])
    if site is None:
        return None
    path = split[1]
    answer = decider.path_answer(site, "" if path == b"-" else path.decode("utf-8", "replace"))
    if answer is not None:
        decider.cache.learn(answers, rest, answer)
    return answer


def _decide_line(decider: Decider, line: bytes, parts: list[bytes], now: datetime,
                 out: list[bytes], counters: Counters) -> int:
    """Decide one line the cache does not know; 1 if answered OK or ERR, else 0."""
    started = time.perf_counter()
    channel, req = parse(line)
    if req is None:
        if channel:
            log.error("malformed request line: %r", line[:200])
            out.append(channel + b" BH message=malformed\n")
        return 0
    decider.last_site = None
    try:
        answer = decider.decide(req, now)
    except Exception:  # one bad request must not take the helper down
        log.exception("decision failed for %r", line[:200])
        counters.errors += 1
        out.append(channel + b" ERR decision=block reason=error\n")
        return 0
    # Learnt only when the line splits on single spaces as parse saw it: the key must name
    # the client's zone, whatever odd spacing a line may have.
    if answer.cacheable and len(parts) == 3 and parts[0] == channel \
            and parts[1] == req.client.encode():
        # A zone's clients share answers; an identified client (zone@login) has its own,
        # whole lines only: a site's pathless answer does not name the user to Squid.
        group = decider.last_group
        answers = decider.cache.zone(parts[1], group)
        identified = group is not None and "@" in group
        split = _pathless(parts[2]) if decider.last_site is not None and not identified \
            else None
        if split is None:
            decider.cache.learn(answers, parts[2], answer)
        else:
            decider.cache.learn(answers, parts[2], answer, split[0], decider.last_site)
        # The compiled lane answers the next request of this group with these categories.
        if decider.lane is not None and group is not None \
                and decider.last_categories is not None:
            decider.lane.learn(parts[1], group, decider.last_categories, answer)
    profile, category, action = answer.counted
    counters.decided(profile, category, action, time.perf_counter() - started)
    out.append(channel + answer.words)
    return 1


def open_index(path: Path) -> Lists:
    from filtering.index import Index

    return Index.open(path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="carine-filter-helper", description=__doc__)
    p.add_argument("--config", type=Path, required=True, help="the rendered filtering.json")
    args = p.parse_args(argv)
    # stderr goes to Squid's cache.log: one line per event, named.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="carine-filter[%(process)d] %(levelname)s %(message)s")
    try:
        decider = Decider(FilterConfig.load(args.config), open_index)
    except CarineError as exc:
        log.error("%s", exc.message)
        return 1

    def write(data: bytes) -> None:  # one system call per batch, no buffering layer
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]

    # Everything built so far (models, index tables) lives as long as the process: keep it out
    # of the collector's full passes, which otherwise walk it again and again.
    gc.collect()
    gc.freeze()
    stats = decider.config.run / "filtering" / f"helper-{os.getpid()}.json"
    meta = getattr(decider.lists, "meta", None)
    counters = Counters(stats, meta if isinstance(meta, dict) else None)

    # Non-blocking reads: under load the next lines are already there, one system call gets
    # them; poll (waking at least once a second for the idle work) only when there are none.
    os.set_blocking(0, False)
    poller = select.poll()
    poller.register(0, select.POLLIN)

    def read(size: int) -> bytes | None:
        try:
            return os.read(0, size)
        except BlockingIOError:
            pass
        if not poller.poll(1000):
            return None
        try:
            return os.read(0, size)
        except BlockingIOError:
            return None

    try:
        serve(decider, read, write, counters=counters)
    finally:
        decider.close()
        stats.unlink(missing_ok=True)  # a helper that is gone has nothing to report
    return 0


if __name__ == "__main__":
    sys.exit(main())
