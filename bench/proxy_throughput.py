"""Requests/s and latency through the lab's Squid, filtering ON (the lab as it is) against the
same Squid configuration with filtering OFF, from a pupil's PC (carine-pedago-1).

    .venv/bin/python bench/proxy_throughput.py [--duration 10] [--concurrency 20]

The lab must be up (``carine lab up``); if it is down this brings it up, and takes it down again
at the end (a lab found up is used as it is and left up). Traffic goes only between the lab's
namespaces, each run bounded in time.

- ON: the lab's Squid (explicit proxy 10.30.0.1:3128; HTTP and HTTPS from the pupil's PC are
  redirected by the lab's nftables to 3129 and 3130), with CARINE's helper deciding.
- OFF: a second Squid in carine-appliance, started here from a copy of the rendered squid.conf
  without the external ACL, its ``http_access deny``, ``deny_info`` and ``ssl_bump terminate``
  lines, on ports 13128-13130, with its own pid file and logs; stopped by its PID at the end.
  The lab's ruleset drops anything towards the appliance but the product's ports, and
  redirects the pupils' web to the ON Squid. So, for the duration of the benchmark, and only for
  packets from the pupil's PC that carry the DSCP class CS1 (which the load client sets on its
  own connections during OFF runs; ON runs carry CS2, which nothing matches): one rule accepting
  13128-13130 is inserted at the top of ``inet carine input`` (removed by its handle
  afterwards), and a table ``inet carine_bench`` redirects their HTTP and HTTPS to the OFF
  Squid's intercept ports just before the product's own redirection (deleted afterwards).
  Nobody else's traffic is touched, and the OFF Squid reaches the web server exactly as the ON
  one does.

Modes: HTTP through the explicit proxy (absolute URLs, keep-alive to the proxy), HTTP
transparently (to the web server's address, intercepted), HTTPS by CONNECT through the explicit
proxy, HTTPS transparently (peeked for the SNI, spliced). An HTTP request asks a new path each
time (so Squid's decision cache, keyed on the path, does not answer it); an HTTPS request is a
new connection: (CONNECT,) TLS handshake, one GET, close. Scenarios: allowed hosts only (the
lab's named hosts), and 10% of requests to hosts the pupil profile blocks (taken from the lab's
index). ON and OFF alternate, each with a warm-up that is not counted. The ratio filtered /
unfiltered requests/s is printed last."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the repository, not bench/ siblings
    sys.path[0] = str(ROOT)

from bench.common import Popen  # noqa: E402
from bench.e2guardian import E2G_PORT, E2G_TOS, E2Guardian  # noqa: E402

MODES = ("http-explicit", "http-transparent", "connect-explicit", "https-transparent")
MODE_NAMES = {"http-explicit": "HTTP, explicit proxy", "http-transparent": "HTTP, transparent",
              "connect-explicit": "HTTPS, CONNECT", "https-transparent": "HTTPS, transparent"}
OFF_OFFSET = 10000  # OFF Squid ports: 3128 -> 13128, 3129 -> 13129, 3130 -> 13130
# The load client marks its packets with a DSCP class (IP TOS byte): OFF runs with CS1, which
# the temporary rules match, so that only the benchmark's own connections reach the OFF Squid;
# ON runs with CS2, which nothing matches (same work for the client and the kernel).
TOS = {False: 0x20, True: 0x40}  # by filtering: CS1 (OFF), CS2 (ON)
BLOCKED_CATEGORIES = ("gambling", "games", "dating", "drogue", "warez", "hacking", "agressif",
                      "sect", "mixed_adult", "dangerous_material")  # not the DNS-refused ones
TIMEOUT = 5.0


# --- the load client (runs inside carine-pedago-1) ---------------------------------------------

@dataclass
class Spec:
    mode: str
    proxy: tuple[str, int]  # explicit proxy address (explicit modes)
    target: tuple[str, int]  # web server address and port the client dials (transparent modes)
    tos: int  # IP TOS byte on every connection
    allowed: list[str]
    blocked: list[str]
    blocked_share: float
    concurrency: int
    warmup: float
    duration: float
    ca: str
    seed: int


class Recorder:
    def __init__(self, measure_from: float, measure_to: float) -> None:
        self.measure_from, self.measure_to = measure_from, measure_to
        self.outcomes: Counter[str] = Counter()
        self.latency: list[float] = []

    def add(self, started: float, ended: float, outcome: str) -> None:
        if started < self.measure_from or ended > self.measure_to:
            return  # warm-up, or a request the window cut
        self.outcomes[outcome] += 1
        if outcome in ("ok", "blocked"):
            self.latency.append(ended - started)


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes]]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    return status, headers


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status, and whether the connection can carry another request."""
    status, headers = await _read_head(reader)
    keep = headers.get(b"connection") != b"close"
    if b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif status not in (204, 304):
        await reader.read()
        keep = False
    return status, keep


async def _connect(address: tuple[str, int], tos: int, ctx: ssl.SSLContext | None = None,
                   server_hostname: str | None = None
                   ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection (TLS if ``ctx``) whose packets carry the IP TOS byte ``tos``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, address)
    except BaseException:
        sock.close()
        raise
    return await asyncio.open_connection(sock=sock, ssl=ctx, server_hostname=server_hostname)


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.transport.abort()


async def _http_worker(spec: Spec, n: int, pick: Any, stop_at: float, rec: Recorder) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    count = 0
    while time.perf_counter() < stop_at:
        host, _ = pick()
        count += 1
        path = f"/bench/{n}/{count}"
        if spec.mode == "http-explicit":
            request = f"GET http://{host}{path} HTTP/1.1\r\nHost: {host}\r\n"
            address = spec.proxy
        else:
            request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
            address = spec.target
        request += "User-Agent: carine-bench\r\nAccept: */*\r\n\r\n"
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.wait_for(_connect(address, spec.tos), TIMEOUT)
            assert reader is not None and writer is not None
            writer.write(request.encode())
            status, keep = await asyncio.wait_for(_read_response(reader), TIMEOUT)
            outcome = "ok" if status == 200 else "blocked" if status in (302, 403) \
                else f"http-{status}"
            if not keep:
                _close(writer)
                writer = None
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            outcome = f"error-{type(exc).__name__}"
            _close(writer)
            writer = None
        rec.add(started, time.perf_counter(), outcome)
    _close(writer)


async def _https_once(spec: Spec, host: str, ctx: ssl.SSLContext) -> str:
    writer = None
    try:
        if spec.mode == "connect-explicit":
            reader, writer = await _connect(spec.proxy, spec.tos)
            writer.write(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
            status, _ = await _read_head(reader)
            if status != 200:
                return "blocked" if status in (302, 403) else f"http-{status}"
            await writer.start_tls(ctx, server_hostname=host)
        else:
            reader, writer = await _connect(spec.target, spec.tos, ctx, host)
        writer.write(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        status, _ = await _read_response(reader)
        return "ok" if status == 200 else f"http-{status}"
    finally:
        _close(writer)


async def _https_worker(spec: Spec, pick: Any, stop_at: float, rec: Recorder,
                        ctx: ssl.SSLContext) -> None:
    while time.perf_counter() < stop_at:
        host, is_blocked = pick()
        started = time.perf_counter()
        try:
            outcome = await asyncio.wait_for(_https_once(spec, host, ctx), TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError,
                ssl.SSLError) as exc:
            # A name refused at the SNI is terminated by Squid: the handshake breaks.
            outcome = "blocked" if is_blocked and spec.mode == "https-transparent" \
                else f"error-{type(exc).__name__}"
        rec.add(started, time.perf_counter(), outcome)


async def _load(spec: Spec) -> dict[str, Any]:
    rng = random.Random(spec.seed)  # noqa: S311  # load pattern, not secrets

    def pick() -> tuple[str, bool]:
        if spec.blocked and rng.random() < spec.blocked_share:
            return rng.choice(spec.blocked), True
        return rng.choice(spec.allowed), False

    now = time.perf_counter()
    measure_from = now + spec.warmup
    stop_at = measure_from + spec.duration
    rec = Recorder(measure_from, stop_at)
    ctx = ssl.create_default_context(cafile=spec.ca)
    if spec.mode.startswith("http-"):
        tasks = [_http_worker(spec, n, pick, stop_at, rec) for n in range(spec.concurrency)]
    else:
        tasks = [_https_worker(spec, pick, stop_at, rec, ctx) for _ in range(spec.concurrency)]
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    await asyncio.gather(*tasks)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    return {"outcomes": dict(rec.outcomes), "latency": rec.latency, "duration": spec.duration,
            "client_cpu": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)}


def client_main(spec_json: str) -> int:
    raw = json.loads(spec_json)
    raw["proxy"], raw["target"] = tuple(raw["proxy"]), tuple(raw["target"])
    result = asyncio.run(_load(Spec(**raw)))
    print(json.dumps(result))
    return 0


# --- the appliance side ------------------------------------------------------------------------

def _cpu_of(pid: int) -> float:
    from bench.common import proc_cpu

    try:
        return proc_cpu(pid)
    except (OSError, IndexError):
        return 0.0


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def proxy_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of a Squid and of its children (the filtering helpers), by PID."""
    return {p: _cpu_of(p) for p in (pid, *_children(pid))}


def system_busy() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def listen_drops(ns: str) -> int:
    """TcpExtListenDrops in ``ns``: SYNs dropped because a listener's queue was full (the lab's
    web server listened with Python's default backlog of 5 until commit 389c5e0)."""
    from appliance.run import run

    lines = run(["ip", "netns", "exec", ns, "cat", "/proc/net/netstat"], check=False).stdout
    rows = [line.split() for line in lines.splitlines() if line.startswith("TcpExt:")]
    if len(rows) < 2:
        return 0
    return int(dict(zip(rows[0], rows[1], strict=False)).get("ListenDrops", 0))


def unfiltered_conf(text: str, work: Path) -> str:
    """The rendered squid.conf without filtering, on other ports, with its own files."""
    out = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith(("external_acl_type", "acl carine_ok ", "ssl_bump terminate")) or \
                (s.startswith(("http_access deny", "deny_info")) and "carine_ok" in s):
            out.append(f"# carine-bench, filtering off: {line}")
            continue
        line = re.sub(r"^(https?_port) (\d+)\b",
                      lambda m: f"{m[1]} {int(m[2]) + OFF_OFFSET}", line)
        line = re.sub(r"^pid_filename .*", f"pid_filename {work}/squid-off.pid", line)
        line = re.sub(r"^access_log stdio:\S+", f"access_log stdio:{work}/log/access.log", line)
        line = re.sub(r"^cache_log .*", f"cache_log {work}/log/cache.log", line)
        line = re.sub(r"^coredump_dir .*", f"coredump_dir {work}", line)
        out.append(line)
    conf = "\n".join(out) + "\n"
    live = [line for line in conf.splitlines() if not line.startswith("#")]
    if any("carine_ok" in line or "carine_filter" in line for line in live):
        raise SystemExit("the OFF squid.conf still refers to the filter: the template changed")
    if not any(re.match(rf"https?_port {3128 + OFF_OFFSET}\b", line) for line in live):
        raise SystemExit("no explicit proxy port found to move in the rendered squid.conf")
    return conf


@dataclass
class Lab:
    appliance_ns: str
    client_ns: str
    client_ip: str
    gateway: str
    web: str
    ca: str
    squid_pid: int
    web_pid: int
    web_ns: str
    squid_conf: Path
    index: Path


def lab_status() -> int:
    from appliance.run import run

    return run([str(Path(sys.executable).parent / "carine"), "lab", "status"], check=False,
               timeout=60).returncode


def lab_up_if_down() -> bool:
    """Bring the lab up if it is down (True: this benchmark owns it and takes it down after);
    refuse to touch a lab that is up but unhealthy."""
    from appliance.run import run

    status = lab_status()
    if status == 3:
        print("the lab is down: bringing it up (and down again at the end)", flush=True)
        run([str(Path(sys.executable).parent / "carine"), "lab", "up"], timeout=600,
            cwd=Path(__file__).resolve().parents[1])
        return True
    if status != 0:
        raise SystemExit("the lab is up but not healthy (`carine lab status`): not touching it")
    return False


def open_lab() -> Lab:
    from appliance.lab.driver import LabDriver
    from appliance.lab.topology import APPLIANCE_NS, WAN_NS, WEB_ADDRESS, lab_layout

    driver = LabDriver()
    state = driver.state
    lease = driver.lease("pedago-1")
    procs = {(p.node, p.name): p.pid for p in state.procs}
    layout = lab_layout()
    return Lab(APPLIANCE_NS, driver.ns("pedago-1"), lease["ip"], lease["router"].split()[0],
               str(WEB_ADDRESS), driver.ca, procs[("appliance", "squid")],
               procs[("wan", "web")], WAN_NS, layout.etc("squid/squid.conf"),
               layout.state / "filtering" / "index.cidx")


def blocked_hosts(index_path: Path, count: int) -> list[str]:
    """Names the pupil profile blocks, from the lab's own index (deterministic choice)."""
    from filtering.index import Index

    with Index.open(index_path) as index:
        names = sorted(d for d in index.domains(BLOCKED_CATEGORIES)
                       if re.fullmatch(r"[a-z][a-z0-9-]*(\.[a-z0-9-]+)+", d) and len(d) < 60)
    random.Random(0).shuffle(names)  # noqa: S311
    return names[:count]


class OffSquid:
    """The unfiltered Squid and the temporary nftables pieces that let the pupil reach it."""

    def __init__(self, lab: Lab, work: Path) -> None:
        self.lab, self.work = lab, work
        self.proc: Popen[bytes] | None = None
        self.rule_handle: str | None = None
        self.table = False

    def nft(self, *args: str, check: bool = True) -> str:
        from appliance.run import run

        return run(["ip", "netns", "exec", self.lab.appliance_ns, "nft", *args],
                   check=check).stdout

    def start(self) -> None:
        from appliance.lab import netns
        from bench.common import popen

        (self.work / "log").mkdir(parents=True, exist_ok=True)
        shutil.chown(self.work / "log", user="proxy", group="proxy")
        conf = self.work / "squid-off.conf"
        conf.write_text(unfiltered_conf(self.lab.squid_conf.read_text(), self.work))
        with (self.work / "squid-off.out").open("wb") as out:
            self.proc = popen(["ip", "netns", "exec", self.lab.appliance_ns, "squid", "-N",
                               "-f", str(conf)], stdout=out, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, start_new_session=True)
        ports = [3128 + OFF_OFFSET, 3129 + OFF_OFFSET, 3130 + OFF_OFFSET]
        netns.wait_for("the OFF Squid", lambda: all(
            netns.listening(self.lab.appliance_ns, "tcp", p) for p in ports), timeout=40)
        client, web = self.lab.client_ip, self.lab.web
        echo = self.nft("--echo", "--handle", "insert", "rule", "inet", "carine", "input",
                        "ip", "saddr", client, "ip", "dscp", "cs1", "tcp", "dport",
                        f"{{ {', '.join(map(str, ports))} }}", "accept", "comment",
                        '"carine-bench: temporary, filtering-off Squid"')
        found = re.search(r"# handle (\d+)", echo)
        if not found:
            raise SystemExit(f"no handle in nft's echo: {echo}")
        self.rule_handle = found.group(1)
        # Before the product's own redirection (dstnat): the first NAT rule to match wins.
        rules = self.work / "carine-bench.nft"
        rules.write_text(
            "table inet carine_bench {\n"
            "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat - 10;\n"
            f"\t\tip saddr {client} ip dscp cs1 ip daddr {web} tcp dport 80 "
            f"redirect to :{3129 + OFF_OFFSET}\n"
            f"\t\tip saddr {client} ip dscp cs1 ip daddr {web} tcp dport 443 "
            f"redirect to :{3130 + OFF_OFFSET}\n\t}}\n}}\n")
        self.table = True
        self.nft("-f", str(rules))

    def stop(self) -> None:
        if self.table:
            self.nft("delete", "table", "inet", "carine_bench", check=False)
        if self.rule_handle:
            self.nft("delete", "rule", "inet", "carine", "input", "handle", self.rule_handle,
                     check=False)
        if self.proc is not None:
            from bench.common import stop

            stop(self.proc, grace=10)


@dataclass
class Result:
    scenario: str
    mode: str
    filtering: bool
    outcomes: dict[str, int]
    latency: list[float]
    duration: float
    client_cpu: float
    proxy_cpu: float
    web_cpu: float
    busy: float
    drops: int
    proxy: str = "squid"  # or "e2guardian" (the peer, filtering: its runs count as ON)

    @property
    def key(self) -> tuple[str, str, bool, str]:
        return self.scenario, self.mode, self.filtering, self.proxy

    @property
    def label(self) -> str:
        return "e2g" if self.proxy == "e2guardian" else "ON" if self.filtering else "OFF"

    @property
    def completed(self) -> int:
        return self.outcomes.get("ok", 0) + self.outcomes.get("blocked", 0)

    @property
    def rate(self) -> float:
        return self.completed / self.duration

    def pct(self, q: float) -> float:
        if not self.latency:
            return math.nan
        ordered = sorted(self.latency)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_lab(lab: Lab) -> None:
    """Stop if the lab changed under the benchmark (someone ran `carine lab up` or `down`)."""
    from appliance.lab.driver import LabDriver
    from appliance.lab.state import alive

    try:
        procs = {(p.node, p.name): p for p in LabDriver().state.procs}
        squid = procs.get(("appliance", "squid"))
        same = squid is not None and squid.pid == lab.squid_pid and alive(squid) and \
            Path(f"/run/netns/{lab.client_ns}").exists()
    except Exception:  # a state file being rewritten: the lab is changing
        same = False
    if not same:
        raise SystemExit("the lab changed during the benchmark (its Squid or the pupil's PC is "
                         "gone: someone ran `carine lab up/down`): run it again on a quiet lab")


def run_client(lab: Lab, spec: dict[str, Any]) -> dict[str, Any]:
    from appliance.run import run

    check_lab(lab)
    argv = ["ip", "netns", "exec", lab.client_ns, sys.executable, str(Path(__file__).resolve()),
            "client", json.dumps(spec)]
    result = run(argv, timeout=spec["warmup"] + spec["duration"] + 60, check=False)
    check_lab(lab)
    if not result.ok:
        raise SystemExit(f"the load client failed: {result.output()[-2000:]}")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def measure(lab: Lab, off: OffSquid, scenario: str, mode: str, filtering: bool,
            hosts: tuple[list[str], list[str], float], args: argparse.Namespace,
            peer: E2Guardian | None = None) -> Result:
    """One run through the lab's Squid (filtering ON), the OFF Squid, or ``peer``."""
    allowed, blocked, share = hosts
    transparent_port = 80 if mode == "http-transparent" else 443
    port = E2G_PORT if peer else 3128 + (0 if filtering else OFF_OFFSET)
    spec = {
        "mode": mode, "proxy": [lab.gateway, port],
        "target": [lab.web, transparent_port], "tos": E2G_TOS if peer else TOS[filtering],
        "allowed": allowed, "blocked": blocked, "blocked_share": share,
        "concurrency": args.concurrency, "warmup": args.warmup, "duration": args.duration,
        "ca": lab.ca, "seed": args.seed,
    }
    squid_pid = peer.pid if peer else lab.squid_pid if filtering else \
        (off.proc.pid if off.proc else 0)
    drops0 = listen_drops(lab.web_ns)
    cpu0, web0, busy0 = proxy_cpu(squid_pid), _cpu_of(lab.web_pid), system_busy()
    data = run_client(lab, spec)
    cpu1, web1, busy1 = proxy_cpu(squid_pid), _cpu_of(lab.web_pid), system_busy()
    drops = listen_drops(lab.web_ns) - drops0
    # Warm-up included in these CPU figures: scale them to the measured window.
    scale = args.duration / (args.duration + args.warmup)
    spent = sum(cpu1[p] - cpu0.get(p, 0.0) for p in cpu1) * scale
    busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    return Result(scenario, mode, filtering, data["outcomes"], data["latency"],
                  data["duration"], data["client_cpu"], spent, (web1 - web0) * scale, busy,
                  drops, "e2guardian" if peer else "squid")


def median_runs(results: list[Result]) -> list[Result]:
    """For each (scenario, mode, filter), the run with the median requests/s."""
    groups: dict[tuple[str, str, bool, str], list[Result]] = {}
    for r in results:
        groups.setdefault(r.key, []).append(r)
    return [sorted(g, key=lambda r: r.rate)[len(g) // 2] for g in groups.values()]


def report(results: list[Result], args: argparse.Namespace) -> str:
    from bench.common import table

    chosen = median_runs(results)
    rates: dict[tuple[str, str, bool, str], list[float]] = {}
    for r in results:
        rates.setdefault(r.key, []).append(r.rate)
    rows = []
    for r in chosen:
        errors = sum(n for k, n in r.outcomes.items() if k not in ("ok", "blocked"))
        per_req = 1000 * r.proxy_cpu / r.completed if r.completed else math.nan
        every = " ".join(f"{x:,.0f}" for x in rates[r.key])
        rows.append([r.scenario, MODE_NAMES[r.mode], r.label,
                     f"{r.rate:,.0f}", every, f"{r.pct(0.50):.1f}", f"{r.pct(0.99):.1f}",
                     f"{r.outcomes.get('ok', 0):,}", f"{r.outcomes.get('blocked', 0):,}",
                     f"{errors:,}", f"{per_req:.2f}", f"{100 * r.busy:.0f}", f"{r.drops:,}"])
    by_key = {r.key: r for r in chosen}
    ratio_rows, pairs, peers, peer_rows = [], [], [], []
    for (scenario, mode, filtering, proxy), on in by_key.items():
        off_run = by_key.get((scenario, mode, False, "squid"))
        peer = by_key.get((scenario, mode, True, "e2guardian"))
        if filtering and proxy == "squid" and peer is not None and peer.rate:
            peers.append(on.rate / peer.rate)
            peer_rows.append([scenario, MODE_NAMES[mode], f"{on.rate / peer.rate:.2f}",
                              f"{on.pct(0.5) / peer.pct(0.5):.2f}",
                              f"{on.pct(0.99) / peer.pct(0.99):.2f}",
                              f"{1000 * on.proxy_cpu / max(1, on.completed):.2f} vs "
                              f"{1000 * peer.proxy_cpu / max(1, peer.completed):.2f}"])
        if not filtering or proxy != "squid" or off_run is None or not off_run.rate:
            continue
        pairs.append(on.rate / off_run.rate)
        cost = 1000 * (on.proxy_cpu / max(1, on.completed)
                       - off_run.proxy_cpu / max(1, off_run.completed))
        ratio_rows.append([scenario, MODE_NAMES[mode], f"{on.rate / off_run.rate:.2f}",
                           f"{on.pct(0.5) / off_run.pct(0.5):.2f}",
                           f"{on.pct(0.99) / off_run.pct(0.99):.2f}", f"{cost:+.2f}"])
    text = table(["scenario", "mode", "filter", "req/s", "each round", "p50 ms", "p99 ms", "ok",
                  "blocked", "errors", "proxy CPU ms/req", "host CPU %", "web SYN drops"],
                 rows)
    text += "\n\n" + table(["scenario", "mode", "req/s ON/OFF", "p50 ON/OFF", "p99 ON/OFF",
                            "proxy CPU ms/req ON-OFF"], ratio_rows)
    if peer_rows:
        text += "\n\n" + table(["scenario", "mode", "req/s ON/e2g", "p50 ON/e2g",
                                 "p99 ON/e2g", "proxy CPU ms/req ON vs e2g"], peer_rows)

    def geomean(xs: list[float]) -> float:
        return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else math.nan

    geo = geomean(pairs)
    text += (f"\n\n{args.concurrency} concurrent clients in carine-pedago-1, {args.duration:g} s "
             f"per run after {args.warmup:g} s of warm-up, median of {args.rounds} round(s); "
             f"proxy CPU = Squid + its helpers (ON), the OFF Squid, or e2guardian (e2g: "
             f"{args.peer_version}, explicit proxy, same UT1 categories); host CPU = all "
             f"{os.cpu_count()} CPUs of the machine (client, Squid, helpers and the lab's web "
             f"server share them); web SYN drops = TcpExtListenDrops in carine-wan (SYNs the "
             f"lab's web server dropped, its listen queue full: each costs a 1 s retransmit)\n")
    if peers:
        text += (f"Squid + CARINE / e2guardian requests/s (geometric mean of {len(peers)} "
                 f"pairs): {geomean(peers):.2f}\n")
    text += (f"RATIO filtered/unfiltered requests/s (geometric mean of {len(pairs)} pairs): "
             f"{geo:.2f}" + (f"; Squid + CARINE / e2guardian: {geomean(peers):.2f}"
                             if peers else ""))
    return text


def peer_lists(work: Path) -> tuple[Path, list[str]]:
    """The UT1 tree the lab compiled its index from (unpacked here), and the categories the
    pupils' profile blocks that it holds: what e2guardian is given."""
    from appliance.lab.topology import LISTS, lab_layout
    from bench.helper_vs_squidguard import blocked_categories, source_tree

    tree = source_tree(LISTS, work / "ut1") / "blacklists"
    config = lab_layout().etc("carine/filtering.json")
    _, categories, _ = blocked_categories(config, "pedago", tree)
    return tree, categories


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["client"]:
        return client_main(argv[1])
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    p.add_argument("--warmup", type=float, default=2.0, help="seconds not counted, per run")
    p.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    p.add_argument("--rounds", type=int, default=1,
                   help="measure every pair this many times (ON/OFF order alternating); the "
                        "median run counts")
    p.add_argument("--modes", default=",".join(MODES), help=f"among {', '.join(MODES)}")
    p.add_argument("--blocked-hosts", type=int, default=50,
                   help="distinct blocked hosts in the 10%% scenario")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", action="store_true", help="keep the OFF Squid's folder and logs")
    p.add_argument("--peer", choices=("e2guardian", "none"), default="e2guardian",
                   help="also measure e2guardian 5 with the same UT1 categories, explicit "
                        "modes only (default: %(default)s)")
    args = p.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if any(m not in MODES for m in modes):
        raise SystemExit(f"unknown mode in {args.modes}: choose among {', '.join(MODES)}")
    if os.geteuid() != 0:
        raise SystemExit("the lab needs root")

    from appliance.lab.topology import VHOSTS
    from appliance.run import run

    carine = str(Path(sys.executable).parent / "carine")
    brought_up = lab_up_if_down()
    work = Path(tempfile.mkdtemp(prefix="carine-bench-proxy-", dir="/var/tmp"))
    work.chmod(0o755)
    lab = open_lab()
    off = OffSquid(lab, work)
    peer = E2Guardian(lab.appliance_ns, lab.client_ip, lab.gateway, work / "e2guardian") \
        if args.peer == "e2guardian" else None
    args.peer_version = peer.describe() if peer else ""
    results: list[Result] = []
    try:
        off.start()
        if peer is not None:
            tree, categories = peer_lists(work)
            print(f"e2guardian: {len(categories)} categories ({', '.join(categories)})",
                  flush=True)
            peer.start(tree, categories)
        blocked = blocked_hosts(lab.index, args.blocked_hosts)
        scenarios = {"allowed": (list(VHOSTS), [], 0.0), "10% blocked": (list(VHOSTS), blocked,
                                                                         0.10)}
        print(f"lab: pupil {lab.client_ip} in {lab.client_ns}, proxy {lab.gateway}:3128 (ON, "
              f"Squid pid {lab.squid_pid}) and :{3128 + OFF_OFFSET} (OFF, pid "
              f"{off.proc.pid if off.proc else '?'}); blocked hosts e.g. "
              f"{', '.join(blocked[:3])}", flush=True)
        n = 0
        for round_no in range(args.rounds):
            for scenario, hosts in scenarios.items():
                for mode in modes:
                    order = (True, False) if (n + round_no) % 2 == 0 else (False, True)
                    n += 1
                    runs: list[tuple[bool, E2Guardian | None]] = [(f, None) for f in order]
                    if peer is not None and "explicit" in mode:
                        runs.insert(n % 2 * 2, (True, peer))
                    for filtering, against in runs:
                        r = measure(lab, off, scenario, mode, filtering, hosts, args, against)
                        results.append(r)
                        print(f"  {round_no + 1}/{args.rounds} {scenario:12} "
                              f"{MODE_NAMES[mode]:22} {r.label:3}"
                              f" {r.rate:8,.0f} req/s  p50 {r.pct(0.5):6.1f} ms  p99 "
                              f"{r.pct(0.99):6.1f} ms  {r.outcomes}", flush=True)
        results.sort(key=lambda r: (list(scenarios).index(r.scenario), modes.index(r.mode),
                                    not r.filtering, r.proxy))
    finally:
        if peer is not None:
            peer.stop()
        off.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        if brought_up:
            try:
                check_lab(lab)
            except SystemExit:  # someone else's lab now: theirs to take down
                print("the lab is no longer the one this benchmark brought up: left as it is")
            else:
                run([carine, "lab", "down"], timeout=300)
    print()
    print(report(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
