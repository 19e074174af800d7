"""The Squid external ACL helper: reads request lines on stdin, answers OK or ERR on stdout.

Squid's protocol with concurrency: each line is ``CHANNEL client user method host path sni``
(fields %-encoded, "-" when empty); each answer is ``CHANNEL OK|ERR key=value...``. Lines are
read in whole chunks and answered in one write, so a busy Squid costs one syscall per batch."""

from __future__ import annotations

import argparse
import logging
import os
import re
import select
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, unquote

from appliance.errors import CarineError
from filtering.config import FilterConfig
from filtering.counters import Counters
from filtering.decide import Answer, Decider, Lists, Request

log = logging.getLogger("carine.filter")
FIELDS = 6


def _field(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    if "%" in text:
        text = unquote(text)
    return "" if text == "-" else text


_PLAIN = re.compile(r"[A-Za-z0-9/_.:-]*")


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
    # Values are %-encoded: Squid kv-pairs end at a space, and a host can hold odd bytes.
    notes = " ".join(f"{k}={v if _PLAIN.fullmatch(v) else quote(v, safe='/-_.:')}"
                     for k, v in answer.notes.items())
    word = b" OK " if answer.ok else b" ERR "
    return channel + word + notes.encode() + b"\n"


def serve(decider: Decider, read: Callable[[int], bytes | None],
          write: Callable[[bytes], object],
          chunk: int = 1 << 16, counters: Counters | None = None) -> int:
    """Answer every line until end of input; returns how many lines were answered."""
    pending = b""
    answered = 0
    counters = counters or Counters(None)
    clock = time.perf_counter
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
        *lines, pending = pending.split(b"\n")
        decider.refresh()
        out = []
        for line in lines:
            channel, req = parse(line)
            if req is None:
                if channel:
                    log.error("malformed request line: %r", line[:200])
                    out.append(channel + b" BH message=malformed\n")
                continue
            started = clock()
            try:
                answer = decider.decide(req)
            except Exception:  # one bad request must not take the helper down
                log.exception("decision failed for %r", line[:200])
                counters.errors += 1
                out.append(channel + b" ERR decision=block reason=error\n")
                continue
            notes = answer.notes
            counters.decided(notes.get("profile", "-"), notes.get("category", "-"),
                             notes.get("decision", "-"), clock() - started)
            out.append(format_answer(channel, answer))
            answered += 1
        if out:
            write(b"".join(out))
        counters.flush()


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

    out = sys.stdout.buffer

    def write(data: bytes) -> None:
        out.write(data)
        out.flush()

    stats = decider.config.run / "filtering" / f"helper-{os.getpid()}.json"
    meta = getattr(decider.lists, "meta", None)
    counters = Counters(stats, meta if isinstance(meta, dict) else None)
    def read(size: int) -> bytes | None:
        ready, _, _ = select.select([0], [], [], 1.0)
        return os.read(0, size) if ready else None

    try:
        serve(decider, read, write, counters=counters)
    finally:
        stats.unlink(missing_ok=True)  # a helper that is gone has nothing to report
    return 0


if __name__ == "__main__":
    sys.exit(main())
