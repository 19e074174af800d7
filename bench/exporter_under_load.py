"""Scrape latency, CPU and memory of the prober and exporter with 50 probe targets every 30 s,
while the lab's Squid is under load from a pupil's PC, against the lab idle and against a pair
with no targets, in the same run.

    .venv/bin/python bench/exporter_under_load.py [--quick] [--duration 60] [--rounds 2]

The lab must be up (``carine lab up``); if it is down this brings it up, and takes it down again
at the end (a lab found up is used as it is and left up). Nothing of the lab's site changes: two
prober + exporter pairs of our own run in carine-appliance from generated configurations in
/var/tmp/carine-bench-exporter-* (ports 19108 and 19109, listening on 127.0.0.1 only, a password
of our own), and are stopped by their PIDs at the end.

- Pair "50": 50 targets of the lab's simulated internet (it answers every name), every 30 s:
  each resolved through the appliance's dnsmasq and the upstream; HTTPS and HTTP, direct, through
  Squid, or both; some with an expected text or a login page. Pair "0": the same without targets
  (only the uplink ping), the baseline for CPU, memory and the cost of a scrape.
- Each pair's run folder links to the lab's filtering counters and daemons' PID files, so the
  exposition is the lab's (decision counters growing under load) plus our probe results.
- Phases alternate idle (no load but the probes) and load (the proxy benchmark's client, from
  carine-pedago-1: HTTP through the explicit proxy and HTTPS by CONNECT, 10 % to blocked hosts).
- A scraper in carine-appliance scrapes both exporters in turn every ``--scrape-every`` s as
  Prometheus 2 does: basic auth, OpenMetrics accepted, gzip, a new connection each time; the
  latency runs from the connection to the last byte.
- CPU time and RSS of the four processes are read from /proc/PID at each phase's ends.
- At the end: ``promtool check metrics`` on the text exposition of pair "50", and its series.

The last line is the ratio: scrape p99 under load / idle (pair "50"), then the 50-target pair's
CPU against the empty one's."""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import math
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the repository, not bench/ siblings
    sys.path[0] = str(ROOT)

from bench.common import Popen  # noqa: E402

PORTS = {"50": 19108, "0": 19109}
USER = "prometheus"
# What Prometheus 2.42 (Debian 12) sends with a scrape.
ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
          "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
REQUIREMENT_MS = 50.0  # issue 6: a scrape answers in <= 50 ms
LOAD_MODES = ("http-explicit", "connect-explicit")


# --- the scraper (runs inside carine-appliance) -----------------------------------------------

def scrape_once(port: int, auth: str, text: bool = False) -> tuple[float, int, bytes]:
    """One scrape as Prometheus makes it: seconds to the last byte, status, body (unzipped)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Authorization": auth, "User-Agent": "Prometheus/2.42.0",
                   "X-Prometheus-Scrape-Timeout-Seconds": "10"}
        headers.update({"Accept": "text/plain;version=0.0.4"} if text else
                       {"Accept": ACCEPT, "Accept-Encoding": "gzip"})
        conn.request("GET", "/metrics", headers=headers)
        answer = conn.getresponse()
        body = answer.read()
        elapsed = time.perf_counter() - started
        if answer.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return elapsed, answer.status, body
    finally:
        conn.close()


def scraper_main(spec_json: str) -> int:
    spec = json.loads(spec_json)
    auth = "Basic " + base64.b64encode(f"{USER}:{spec['password']}".encode()).decode()
    if spec.get("text"):  # one text-format exposition, for promtool
        _, status, body = scrape_once(spec["ports"][0], auth, text=True)
        sys.stdout.buffer.write(body if status == 200 else b"")
        return 0 if status == 200 else 1
    out: dict[str, Any] = {str(p): {"latency": [], "errors": 0, "bytes": 0}
                           for p in spec["ports"]}
    stop_at = time.perf_counter() + spec["duration"]
    tick = 0
    while time.perf_counter() < stop_at:
        next_tick = time.perf_counter() + spec["every"]
        ports = spec["ports"] if tick % 2 == 0 else spec["ports"][::-1]  # neither always first
        tick += 1
        for port in ports:
            row = out[str(port)]
            try:
                elapsed, status, body = scrape_once(port, auth)
            except OSError:
                row["errors"] += 1
                continue
            if status != 200:
                row["errors"] += 1
                continue
            row["latency"].append(elapsed)
            row["bytes"] = len(body)
        time.sleep(max(0.0, next_tick - time.perf_counter()))
    print(json.dumps(out))
    return 0


# --- the configurations ------------------------------------------------------------------------

def targets(count: int, interval: int) -> list[dict[str, Any]]:
    """``count`` targets on the simulated internet, a mix of schemes, paths and checks."""
    out = []
    for i in range(count):
        kind = i % 5
        out.append({
            "name": f"bench-{i:02d}",
            "url": (f"http://svc-{i:02d}.carine-bench.example/" if kind == 3 else
                    f"https://svc-{i:02d}.carine-bench.example/"),
            "paths": [["direct", "proxy"], ["direct"], ["proxy"], ["direct", "proxy"],
                      ["direct", "proxy"]][kind],
            "expect": "carine-wan" if kind in (2, 4) else None,
            "login_path": "/login" if kind == 0 else None,
            "login_expect": "carine-wan" if kind == 0 else None,
            "interval": interval, "timeout": 10, "objective": 1.5,
        })
    return out


def write_pair(work: Path, name: str, lab_doc: dict[str, Any], lab_run: Path,
               password_hash: str, count: int, interval: int) -> Path:
    """A run folder and a monitoring.json for one prober + exporter pair; returns the file."""
    run_dir = work / f"pair-{name}" / "run"
    (run_dir / "monitoring").mkdir(parents=True)
    # The lab's filtering counters and daemons, as the lab's own exporter sees them.
    (run_dir / "filtering").symlink_to(lab_run / "filtering")
    for daemon in lab_doc["daemons"]:
        if daemon != "prober":  # ours writes its own PID file here
            (run_dir / f"{daemon}.pid").symlink_to(lab_run / f"{daemon}.pid")
    doc = {**lab_doc, "port": PORTS[name], "user": USER, "password_hash": password_hash,
           "run": str(run_dir),
           "probes": {**lab_doc["probes"], "results": str(run_dir / "monitoring/probes.json"),
                      "targets": targets(count, interval)}}
    path = work / f"pair-{name}" / "monitoring.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(doc, out, indent=1)
    return path


# --- processes and measures --------------------------------------------------------------------

@dataclass
class Pair:
    name: str
    config: Path
    exporter: Popen[bytes] | None = None
    prober: Popen[bytes] | None = None


@dataclass
class Usage:
    """CPU seconds and memory of one process, at one moment."""

    cpu: float
    rss_kb: int
    hwm_kb: int

    @classmethod
    def of(cls, proc: Popen[bytes] | None) -> Usage:
        from bench.common import proc_cpu, proc_status

        if proc is None or proc.poll() is not None:
            raise SystemExit(f"a benchmark process died (exit {proc and proc.returncode}): "
                             "see its log in the work folder (--keep)")
        mem = proc_status(proc.pid)
        return cls(proc_cpu(proc.pid), mem.get("VmRSS", 0), mem.get("VmHWM", 0))


@dataclass
class Phase:
    load: bool
    seconds: float
    scrapes: dict[str, dict[str, Any]]
    usage: dict[str, tuple[Usage, Usage]]  # "50/exporter" -> (start, end)
    busy: float
    load_result: list[dict[str, Any]] = field(default_factory=list)


def start_pair(pair: Pair, log_dir: Path) -> None:
    from appliance.lab import netns
    from appliance.lab.topology import APPLIANCE_NS, lab_layout
    from bench.common import popen

    programs = lab_layout().programs
    for role in ("exporter", "prober"):
        argv = ["ip", "netns", "exec", APPLIANCE_NS, str(programs / f"carine-{role}"),
                "--config", str(pair.config)]
        if role == "exporter":
            argv += ["--bind", "127.0.0.1"]
        with (log_dir / f"{pair.name}-{role}.log").open("wb") as out:
            proc = popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                         start_new_session=True)
        setattr(pair, role, proc)
        if role == "exporter":
            netns.wait_for(f"exporter {pair.name}", lambda: netns.listening(
                APPLIANCE_NS, "tcp", PORTS[pair.name]))


def start_load(lab: Any, blocked: list[str], args: argparse.Namespace,
               seconds: float, log_dir: Path) -> list[tuple[Popen[bytes], Path]]:
    """The proxy benchmark's load client, one per mode, in the pupil's PC, for ``seconds``."""
    from appliance.lab.topology import VHOSTS
    from bench.common import popen
    from bench.proxy_throughput import TOS

    clients = []
    for n, mode in enumerate(LOAD_MODES):
        spec = {"mode": mode, "proxy": [lab.gateway, 3128], "target": [lab.web, 443],
                "tos": TOS[True], "allowed": list(VHOSTS), "blocked": blocked,
                "blocked_share": 0.10, "concurrency": args.load_concurrency, "warmup": 0.0,
                "duration": seconds, "ca": lab.ca, "seed": args.seed + n}
        out_path = log_dir / f"load-{mode}-{time.monotonic_ns()}.json"
        with out_path.open("wb") as out:
            proc = popen(["ip", "netns", "exec", lab.client_ns, sys.executable,
                          str(ROOT / "bench" / "proxy_throughput.py"), "client",
                          json.dumps(spec)], stdout=out, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, start_new_session=True)
        clients.append((proc, out_path))
    return clients


def finish_load(clients: list[tuple[Popen[bytes], Path]], seconds: float) -> list[dict[str, Any]]:
    from bench.common import stop

    out = []
    for proc, path in clients:
        try:
            proc.wait(seconds + 60)
        except subprocess.TimeoutExpired:  # a stuck client is stopped, its result missing
            stop(proc)
        lines = path.read_text().strip().splitlines()
        out.append(json.loads(lines[-1]) if lines else {"outcomes": {"no result": 1}})
    return out


def run_scraper(ports: list[int], password: str, seconds: float, every: float,
                text: bool = False) -> Any:
    from appliance.lab.topology import APPLIANCE_NS
    from appliance.run import run

    spec = json.dumps({"ports": ports, "password": password, "duration": seconds,
                       "every": every, "text": text})
    result = run(["ip", "netns", "exec", APPLIANCE_NS, sys.executable, str(Path(__file__)),
                  "scrape", spec], timeout=seconds + 120, check=False, secrets=[password])
    if not result.ok:
        raise SystemExit(f"the scraper failed: {result.stderr[-2000:]}")
    return result.stdout if text else json.loads(result.stdout.strip().splitlines()[-1])


def measure(pairs: list[Pair], lab: Any, blocked: list[str], load: bool, password: str,
            args: argparse.Namespace, log_dir: Path) -> Phase:
    from bench.proxy_throughput import check_lab, system_busy

    check_lab(lab)
    clients = []
    if load:
        # The load starts first and ends after the scrapes: every scrape is under load.
        clients = start_load(lab, blocked, args, args.duration + 2 * args.settle, log_dir)
        time.sleep(args.settle)
    procs = {f"{p.name}/{role}": getattr(p, role) for p in pairs for role in ("exporter",
                                                                             "prober")}
    before = {k: Usage.of(v) for k, v in procs.items()}
    busy0, started = system_busy(), time.perf_counter()
    scrapes = run_scraper([PORTS[p.name] for p in pairs], password, args.duration,
                          args.scrape_every)
    seconds = time.perf_counter() - started
    after = {k: Usage.of(v) for k, v in procs.items()}
    busy1 = system_busy()
    load_result = finish_load(clients, args.duration + 2 * args.settle) if load else []
    check_lab(lab)
    busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    by_name = {p.name: scrapes[str(PORTS[p.name])] for p in pairs}
    return Phase(load, seconds, by_name, {k: (before[k], after[k]) for k in procs}, busy,
                 load_result)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in ms."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Summary:
    """One pair in one kind of phase, all rounds merged."""

    latency: list[float]
    errors: int
    bytes: int
    seconds: float
    cpu: dict[str, float]  # role -> CPU seconds
    rss_kb: dict[str, int]
    hwm_kb: dict[str, int]

    def cpu_pct(self, role: str) -> float:
        return 100 * self.cpu[role] / self.seconds


def summarise(phases: list[Phase], name: str, load: bool) -> Summary:
    chosen = [p for p in phases if p.load == load]
    s = Summary([], 0, 0, 0.0, {"exporter": 0.0, "prober": 0.0}, {}, {})
    for p in chosen:
        row = p.scrapes[name]
        s.latency += row["latency"]
        s.errors += row["errors"]
        s.bytes = row["bytes"]
        s.seconds += p.seconds
        for role in ("exporter", "prober"):
            start, end = p.usage[f"{name}/{role}"]
            s.cpu[role] += end.cpu - start.cpu
            s.rss_kb[role] = end.rss_kb
            s.hwm_kb[role] = max(s.hwm_kb.get(role, 0), end.hwm_kb)
    return s


def load_line(phases: list[Phase]) -> str:
    done, errors, seconds = 0, 0, 0.0
    for p in phases:
        for r in p.load_result:
            outcomes = r.get("outcomes", {})
            done += outcomes.get("ok", 0) + outcomes.get("blocked", 0)
            errors += sum(n for k, n in outcomes.items() if k not in ("ok", "blocked"))
            seconds += r.get("duration", 0.0) / len(p.load_result)
    rate = done / seconds if seconds else math.nan
    return (f"proxy load: {' + '.join(LOAD_MODES)} from carine-pedago-1, {rate:,.0f} requests/s "
            f"through Squid ({done:,} answered, {errors:,} errors)")


def report(phases: list[Phase], args: argparse.Namespace, series: dict[str, int],
           promtool: str) -> str:
    from bench.common import mib, table

    rows, sums = [], {}
    busy = {load: [p.busy for p in phases if p.load == load] or [math.nan]
            for load in (False, True)}
    for load in (False, True):
        for name in PORTS:
            s = sums[(name, load)] = summarise(phases, name, load)
            n = len(s.latency)
            per_scrape = 1000 * s.cpu["exporter"] / n if n else math.nan
            rows.append([f"{'load' if load else 'idle'}, {name} targets", f"{n:,}",
                         f"{s.errors:,}", f"{pct(s.latency, 0.5):.1f}",
                         f"{pct(s.latency, 0.95):.1f}", f"{pct(s.latency, 0.99):.1f}",
                         f"{pct(s.latency, 1.0):.1f}", f"{series[name]:,}",
                         f"{s.bytes / 1024:,.0f}", f"{s.cpu_pct('exporter'):.2f}",
                         f"{per_scrape:.2f}", f"{s.cpu_pct('prober'):.2f}",
                         mib(s.rss_kb["exporter"]), mib(s.rss_kb["prober"]),
                         f"{100 * statistics.mean(busy[load]):.0f}"])
    text = table(["phase, pair", "scrapes", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms",
                  "series", "KiB", "exporter CPU %", "exporter CPU ms/scrape", "prober CPU %",
                  "exporter RSS MiB", "prober RSS MiB", "host CPU %"], rows)
    hwm = {name: sums[(name, True)].hwm_kb for name in PORTS}
    loaded = sums[("50", True)]
    p99 = pct(loaded.latency, 0.99)
    verdict = "met" if p99 <= REQUIREMENT_MS else "NOT met"
    text += (
        f"\n\n{load_line(phases)}\n"
        f"{args.rounds} round(s) of idle and load phases, {args.duration:g} s each, "
        f"{args.scrape_every:g} s between scrapes of each exporter (both in turn; gzip, "
        f"OpenMetrics, a new connection each); {args.targets} targets every "
        f"{args.interval} s after {args.warmup:g} s of warm-up; CPU % of one core; RSS at the "
        f"end of the phases, peak (VmHWM) exporter {mib(hwm['50']['exporter'])} / "
        f"{mib(hwm['0']['exporter'])} MiB, prober {mib(hwm['50']['prober'])} / "
        f"{mib(hwm['0']['prober'])} MiB (50 / 0 targets); host CPU = both CPUs of the machine\n"
        f"promtool check metrics, pair 50 ({series['50']:,} series): {promtool}\n"
        f"requirement: a scrape answers in <= {REQUIREMENT_MS:g} ms: p99 under load "
        f"{p99:.1f} ms, {verdict}\n")
    idle = sums[("50", False)]
    empty = sums[("0", True)]
    prober = loaded.cpu["prober"] / max(1e-9, empty.cpu["prober"])
    per_scrape = (loaded.cpu["exporter"] / max(1, len(loaded.latency))) / \
        max(1e-9, empty.cpu["exporter"] / max(1, len(empty.latency)))
    text += (
        f"RATIO scrape p99 load/idle (50 targets): {p99 / pct(idle.latency, 0.99):.2f}; "
        f"50/0 targets under load: prober CPU {prober:.2f}, exporter CPU per scrape "
        f"{per_scrape:.2f}, scrape p99 {p99 / pct(empty.latency, 0.99):.2f}")
    return text


def exposition(password: str, work: Path) -> tuple[dict[str, int], str]:
    """Series of each pair's text exposition, and promtool's verdict on pair 50's."""
    from appliance.run import run

    series = {}
    for name, port in PORTS.items():
        body = run_scraper([port], password, 0, 0, text=True)
        (work / f"metrics-{name}.txt").write_text(body)
        series[name] = sum(1 for line in body.splitlines() if line and not line.startswith("#"))
    if shutil.which("promtool") is None:
        return series, "promtool missing (Debian package prometheus)"
    result = run(["promtool", "check", "metrics"], input_text=(work / "metrics-50.txt")
                 .read_text(), check=False)
    return series, "ok" if result.ok and not result.output() else \
        f"exit {result.returncode}: {result.output()[:2000]}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["scrape"]:
        return scraper_main(argv[1])
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=60.0, help="seconds scraped per phase")
    p.add_argument("--rounds", type=int, default=2, help="idle + load phases, this many times")
    p.add_argument("--warmup", type=float, default=40.0,
                   help="seconds after start before measuring (the first probe round)")
    p.add_argument("--targets", type=int, default=50)
    p.add_argument("--interval", type=int, default=30, help="seconds between two probes")
    p.add_argument("--scrape-every", type=float, default=0.5,
                   help="seconds between two scrapes of each exporter")
    p.add_argument("--load-concurrency", type=int, default=10,
                   help="requests in flight per load mode")
    p.add_argument("--settle", type=float, default=3.0,
                   help="seconds of load before the scrapes start (and after they end)")
    p.add_argument("--quick", action="store_true",
                   help="one round of 30 s phases after 20 s of warm-up (~2 min)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs, configs)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration, args.rounds, args.warmup = 30.0, 1, 20.0
    if os.geteuid() != 0:
        raise SystemExit("the lab needs root")

    from argon2 import PasswordHasher

    from appliance.lab.topology import lab_layout
    from appliance.run import run
    from bench.common import stop
    from bench.proxy_throughput import blocked_hosts, check_lab, lab_up_if_down, open_lab

    carine = str(Path(sys.executable).parent / "carine")
    brought_up = lab_up_if_down()
    lab = open_lab()
    layout = lab_layout()
    lab_doc = json.loads(layout.etc("carine/monitoring.json").read_text(encoding="utf-8"))
    work = Path(tempfile.mkdtemp(prefix="carine-bench-exporter-", dir="/var/tmp"))
    password = secrets.token_urlsafe(18)
    password_hash = PasswordHasher().hash(password)
    pairs = [Pair(name, write_pair(work, name, lab_doc, layout.run, password_hash,
                                   args.targets if name == "50" else 0, args.interval))
             for name in PORTS]
    phases: list[Phase] = []
    try:
        for pair in pairs:
            start_pair(pair, work)
        blocked = blocked_hosts(lab.index, 50)
        print(f"work {work}; exporters on 127.0.0.1:{PORTS['50']} ({args.targets} targets, "
              f"pid {pairs[0].exporter and pairs[0].exporter.pid}) and :{PORTS['0']} "
              f"(no targets); warming up {args.warmup:g} s", flush=True)
        run_scraper(list(PORTS.values()), password, 0.5, 0.5)  # argon2 once per exporter
        time.sleep(args.warmup)
        for round_no in range(args.rounds):
            order = (False, True) if round_no % 2 == 0 else (True, False)
            for load in order:
                phase = measure(pairs, lab, blocked, load, password, args, work)
                phases.append(phase)
                # Each scrape's latency, for a look at the tail (kept with --keep).
                (work / f"scrapes-{len(phases)}-{'load' if load else 'idle'}.json").write_text(
                    json.dumps(phase.scrapes))
                row = phase.scrapes["50"]
                print(f"  {round_no + 1}/{args.rounds} {'load' if load else 'idle'}: "
                      f"{len(row['latency'])} scrapes of pair 50, p99 "
                      f"{pct(row['latency'], 0.99):.1f} ms, max "
                      f"{pct(row['latency'], 1.0):.1f} ms, host CPU {100 * phase.busy:.0f} %",
                      flush=True)
        series, promtool = exposition(password, work)
    finally:
        for pair in pairs:
            for proc in (pair.prober, pair.exporter):
                if proc is not None:
                    stop(proc)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if brought_up:
            try:
                check_lab(lab)
            except SystemExit:  # someone else's lab now: theirs to take down
                print("the lab is no longer the one this benchmark brought up: left as it is")
            else:
                run([carine, "lab", "down"], timeout=300, cwd=ROOT)
    print()
    print(report(phases, args, series, promtool))
    return 0


if __name__ == "__main__":
    sys.exit(main())
