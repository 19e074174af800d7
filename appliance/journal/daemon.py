"""``carine-journald``: the journal's periodic work in one process: follow Squid's access log,
poll conntrack for NAT, seal each day after it ends, purge past retention once a day, and
forward to the TLS syslog collector when one is configured."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from appliance.clock import SYSTEM
from appliance.errors import CarineError
from appliance.journal import conntrack, squidlog
from appliance.journal.attribution import Attribution
from appliance.journal.config import load
from appliance.journal.follow import follow_once
from appliance.journal.purge import purge
from appliance.journal.records import to_micros
from appliance.journal.seal import pack_due, seal_due
from appliance.journal.store import Journal

log = logging.getLogger("carine.journald")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="carine-journald", description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between passes")
    parser.add_argument("--no-nat", action="store_true", help="do not poll conntrack")
    parser.add_argument("--pidfile", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        config = load(args.config)
    except CarineError as exc:  # a damaged journal.json: say which and why, and stop
        print(f"carine-journald: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    config.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    journal = Journal.open(config.root, bulk=True)
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.pidfile:
        args.pidfile.write_text(f"{os.getpid()}\n", encoding="utf-8")
    nat = conntrack.NatPoller()
    sessions = Attribution(config.sessions) if config.sessions else None

    def navigation(lines: list[str]) -> None:
        if sessions is not None:
            sessions.refresh()  # who holds which address, as of this batch
        journal.append_micros("navigation", squidlog.parse_lines(
            lines, sessions.login_at if sessions else None)[0])

    forwarder = None
    if config.syslog:
        from appliance.journal.forward import Forwarder  # TLS only when a collector is named

        forwarder = Forwarder(config.root, config.state, config.syslog, config.school)
    last_seal = 0.0
    purged_on = None
    while not stop:
        try:
            if config.squid_log is not None:
                follow_once(config.squid_log, config.state / "squid.position", navigation)
            if not args.no_nat:
                journal.append_micros("nat", nat.poll(to_micros(None)))
            if time.monotonic() - last_seal > 60:
                now = SYSTEM.now()
                for line in seal_due(config.root, now) + pack_due(config.root, now):
                    log.info("%s", line)
                last_seal = time.monotonic()
            today = SYSTEM.now().date()
            if purged_on != today:
                for line in purge(config.root, config.retention, SYSTEM.now()):
                    log.info("%s", line)
                purged_on = today
            if forwarder is not None:
                forwarder.forward_once()
        except (CarineError, OSError) as exc:
            log.warning("journal pass failed: %s", exc)  # next pass retries
        time.sleep(args.interval)
    journal.close()
    if sessions is not None:
        sessions.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
