"""The lab's stand-in for systemd's ``Restart=``: runs one declared unit in its namespace,
records its PID where the exporter reads it, restarts it after a failure, stops it on SIGTERM.

``python -m appliance.lab.supervise --ns NS --pid-file P [--restart on-failure]
[--delay S] [--env K=V]... -- ARGV...``. Like systemd: a clean exit (0, or SIGTERM, SIGINT,
SIGHUP, SIGPIPE) is not a failure; more than 5 starts in 10 s and it gives up."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from appliance.run import Child, child

CLEAN_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE}
FORWARDED = (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
BURST, INTERVAL = 5, 10.0  # systemd's StartLimitBurst and StartLimitIntervalSec defaults
STOP_GRACE = 4.0


def failed(returncode: int) -> bool:
    """Whether an exit is a failure in the sense of ``Restart=on-failure``."""
    if returncode < 0:
        return signal.Signals(-returncode) not in CLEAN_SIGNALS
    return returncode != 0


class Supervisor:
    def __init__(self, argv: list[str], pid_file: Path, env: dict[str, str]) -> None:
        self.argv, self.pid_file, self.env = argv, pid_file, env
        self.proc: Child | None = None
        self.stopping = False

    def start(self) -> None:
        self.proc = child(self.argv, self.env)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(f"{self.proc.pid}\n", encoding="utf-8")
        tmp.replace(self.pid_file)

    def signal(self, signum: int, frame: FrameType | None) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.stopping = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signum)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.pid_file.unlink(missing_ok=True)

    def run(self, restart: str, delay: float) -> int:
        starts: list[float] = []
        while True:
            starts = [t for t in starts if time.monotonic() - t < INTERVAL] + [time.monotonic()]
            self.start()
            assert self.proc is not None
            code = self.proc.wait()
            self.pid_file.unlink(missing_ok=True)
            if self.stopping:
                return 0
            again = restart == "always" or (restart == "on-failure" and failed(code))
            then = f"restarting in {delay:.1f} s" if again else "not restarted"
            print(f"supervise: {' '.join(self.argv[4:6])} exited with {code}; {then}",
                  file=sys.stderr, flush=True)
            if not again:
                return code if code > 0 else 1
            if len(starts) >= BURST:
                print(f"supervise: {BURST} starts within {INTERVAL:.0f} s: giving up",
                      file=sys.stderr, flush=True)
                return 1
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self.stopping:
                time.sleep(0.05)
            if self.stopping:
                return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m appliance.lab.supervise")
    p.add_argument("--ns", required=True, help="network namespace to run in")
    p.add_argument("--pid-file", type=Path, required=True)
    p.add_argument("--restart", choices=("on-failure", "always", "no"), default="on-failure")
    p.add_argument("--delay", type=float, default=2.0, help="seconds before a restart")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("command", nargs=argparse.REMAINDER)
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command after --")
    env = dict(item.split("=", 1) for item in args.env)
    # `ip netns exec` execs the command: the PID we record is the daemon's own.
    sup = Supervisor(["ip", "netns", "exec", args.ns, *command], args.pid_file, env)
    for signum in (signal.SIGTERM, signal.SIGINT, *FORWARDED):
        signal.signal(signum, sup.signal)
    try:
        return sup.run(args.restart, args.delay)
    finally:
        sup.stop()


if __name__ == "__main__":
    raise SystemExit(main())
