"""``carine-prober --config monitoring.json``: runs the probes on their schedules and writes
<run>/monitoring/probes.json every round. SIGTERM stops it; SIGUSR1 runs every probe now."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.errors import CarineError
from monitoring import configfile, history
from monitoring.probes.config import ProberConfig
from monitoring.probes.results import Check, to_doc
from monitoring.probes.runner import Job, Prober, jobs
from monitoring.probes.schedule import Schedule

log = logging.getLogger("carine.prober")
# Results reach the file at most this often: a round of 50 targets finishes ~150 probes, and
# writing the whole file after each one cost the prober most of its CPU and made the exporter
# format its probe families again several times a second.
WRITE_GAP = 2.0


def write_results(path: Path, checks: list[Check], trace: dict[str, Any] | None,
                  now: float) -> None:
    """Replace the results file in one rename: the exporter never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(to_doc(checks, trace, now), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


class Daemon:
    """The schedule, the running probes, and the latest rows of each."""

    def __init__(self, config: ProberConfig, prober: Prober, rng: random.Random,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.config, self.prober, self.clock, self.wall = config, prober, clock, wall
        self.jobs: dict[str, Job] = {j.key: j for j in jobs(config)}
        self.schedule = Schedule({k: j.interval for k, j in self.jobs.items()}, rng)
        self.latest: dict[str, list[Check]] = {}
        self.rounds = 0
        self._nudge = asyncio.Event()
        self._stopping = self._now = self._dirty = False
        self._tallied = 0.0  # the newest check already counted in the availability history
        self._tasks: set[asyncio.Task[list[Check]]] = set()

    def stop(self) -> None:
        self._stopping = True
        self._nudge.set()

    def run_now(self) -> None:
        self._now = True
        self._nudge.set()

    def _finished(self, key: str, task: asyncio.Task[list[Check]]) -> None:
        self._tasks.discard(task)
        self.schedule.done(key, self.clock())
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("probe %s failed unexpectedly", key, exc_info=task.exception())
            return
        rows = task.result()
        before = {c.key: c.success for c in self.latest.get(key, [])}
        for row in rows:
            if before.get(row.key) != row.success:
                log.info("%s %s %s %s: %s%s", row.service, row.check, row.path, row.target,
                         "ok" if row.success else "FAILED",
                         f" ({row.error})" if row.error else "")
        self.latest[key] = rows
        self._dirty = True
        self._nudge.set()

    async def serve(self) -> None:
        self.schedule.start(self.clock())
        written = float("-inf")
        while not self._stopping:
            if self._now:
                self._now = False
                self.schedule.all_now(self.clock())
            for key in self.schedule.take_due(self.clock()):
                task = asyncio.create_task(self.prober.run(self.jobs[key]), name=key)
                self._tasks.add(task)
                task.add_done_callback(functools.partial(self._finished, key))
            delay = self.schedule.delay(self.clock())
            if self._dirty:
                since = self.clock() - written
                if since >= WRITE_GAP:
                    self._write()
                    written = self.clock()
                else:
                    delay = min(delay, WRITE_GAP - since) if delay is not None \
                        else WRITE_GAP - since
            try:
                async with asyncio.timeout(delay):
                    await self._nudge.wait()
            except TimeoutError:
                pass
            self._nudge.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._dirty:  # what finished since the last write
            self._write()

    def _write(self) -> None:
        self._dirty = False
        self.rounds += 1
        checks = [c for rows in self.latest.values() for c in rows]
        write_results(self.config.results, checks, self.prober.trace, self.wall())
        # A service is up in a round when all its fresh checks succeeded (the console's chart).
        fresh = [c for c in checks if c.timestamp > self._tallied]
        if fresh:
            services: dict[str, bool] = {}
            for c in fresh:
                services[c.service] = services.get(c.service, True) and c.success
            history.tally(self.config.results.with_name(history.FILE), services.items(),
                          datetime.fromtimestamp(self.wall(), UTC), self.config.timezone)
            self._tallied = max(c.timestamp for c in fresh)


async def serve(config: ProberConfig) -> None:
    """Run until SIGTERM or SIGINT."""
    # Two threads are plenty: only the ICMP probe (one job) blocks; the rest is asyncio.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="probe") as executor:
        # Jitter only spreads the probes in time: no secret depends on it.
        daemon = Daemon(config, Prober(config, executor), random.Random())  # noqa: S311
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, daemon.stop)
        loop.add_signal_handler(signal.SIGINT, daemon.stop)
        loop.add_signal_handler(signal.SIGUSR1, daemon.run_now)
        log.info("probing %d targets, at most %d at once", len(config.targets),
                 config.concurrency)
        await daemon.serve()
        executor.shutdown(wait=False, cancel_futures=True)
    log.info("stopped")


def load(path: Path) -> ProberConfig:
    return ProberConfig.from_doc(configfile.load(path).model_dump(mode="json"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="carine-prober", description=__doc__)
    p.add_argument("--config", type=Path, required=True, help="the rendered monitoring.json")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="carine-prober %(levelname)s %(message)s")
    try:
        config = load(args.config)
    except CarineError as exc:
        print(f"carine-prober: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 1
    config.pidfile.parent.mkdir(parents=True, exist_ok=True)
    config.pidfile.write_text(f"{os.getpid()}\n", encoding="ascii")
    try:
        asyncio.run(serve(config))
    finally:
        config.pidfile.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
