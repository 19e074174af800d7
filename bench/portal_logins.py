"""Login burst and gate cost of the captive portal, in the lab (run as root, lab up):

1. N logins (default 1,000) within a minute from N addresses of the guest zone (added to two
   lab clients for the run, removed after): errors, login time and login-to-traffic latency
   (from the POST to the first 200 through the proxy), p50/p99.
2. The gate with 0 against 10,000 authorised clients: flood-ping RTT across a router namespace
   running the lab's rendered ruleset, side by side, alternating; the ratio is printed last.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from ipaddress import IPv4Address
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subprocess import PIPE

from appliance.directory import passwords
from appliance.lab import commands, netns
from appliance.lab.driver import LabDriver
from appliance.lab.state import LabState, Proc, alive, stop_all
from appliance.lab.topology import APPLIANCE_NS, LAB_DIR
from appliance.run import run, spawn
from appliance.state import connect
from bench.common import popen, proc_cpu

PASSWORD = "Bench-pass-2025"  # noqa: S105 - a throwaway lab password
NODES = ("carine-guest-1", "carine-guest-2")
FIRST = IPv4Address("10.40.2.1")
PORTAL_JSON = Path("/run/carine-lab/tree/etc/carine/portal.json")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def make_accounts(lab: LabDriver, count: int, charter: str) -> list[str]:
    conn = connect(lab.store_path)
    digest = passwords.hash_password(PASSWORD)  # one hash for all: set-up time, not the bench
    now = time.time()
    logins = [f"bench.{i:04d}" for i in range(count)]
    with conn:
        for login in logins:
            if conn.execute("SELECT 1 FROM accounts WHERE login = ?", (login,)).fetchone():
                conn.execute("UPDATE accounts SET failures = 0, locked_until = NULL "
                             "WHERE login = ?", (login,))
                continue
            cur = conn.execute(
                "INSERT INTO people (local_id, source, last_name, first_name, profile, "
                "created_at, updated_at) VALUES (?, 'local', 'Bench', ?, 'eleve', ?, ?)",
                (f"bench-{login}", login, now, now))
            conn.execute("INSERT OR IGNORE INTO logins_used (login) VALUES (?)", (login,))
            conn.execute(
                "INSERT INTO accounts (person_id, login, password_hash, must_change, "
                "charter_version, charter_at, created_at) VALUES (?, ?, ?, 0, ?, ?, ?)",
                (cur.lastrowid, login, digest, charter, now, now))
    conn.close()
    return logins


def portal_proc(lab: LabDriver) -> Proc:
    found = [p for p in lab.state.procs if p.name == "portal" and alive(p)]
    if not found:
        raise SystemExit("the lab's portal is not running: `carine lab up` first")
    return found[0]


def restart_portal(lab: LabDriver, code: Path | None = None) -> Proc:
    """Stop the lab's portal by its PID and start it again from the same command, running the
    code of this tree, or of ``code`` (a baseline checkout, first on PYTHONPATH); under the lab
    lock, recorded in the lab's state."""
    with commands._locked():
        state = LabState.load(commands.STATE)
        old = [p for p in state.procs if p.name == "portal"]
        stop_all(old)
        state.procs = [p for p in state.procs if p.name != "portal"]
        proc = old[0]
        argv = [a for a in proc.argv if not a.startswith("PYTHONPATH=") and a != "env"]
        if code is not None:  # `ip netns exec NS env PYTHONPATH=... carine-portal ...`
            at = argv.index(APPLIANCE_NS) + 1
            argv[at:at] = ["env", f"PYTHONPATH={code}"]
        pid = spawn(argv, logfile=LAB_DIR / "log" / f"{proc.node}-portal.log")
        state.add_proc("portal", proc.node, pid, argv)
        config = json.loads(PORTAL_JSON.read_text())
        netns.wait_for("portal", lambda: netns.listening(APPLIANCE_NS, "tcp",
                                                          int(config["port"])))
    return portal_proc(LabDriver())


def renice(pid: int, value: int) -> None:
    """Nice is per thread on Linux: every thread of ``pid`` (ours: the lab portal we started)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.setpriority(os.PRIO_PROCESS, int(task.name), value)


def children_cpu(pid: int) -> float:
    """CPU seconds of ``pid``'s reaped children (the nft processes it ran)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def listen_drops() -> int:
    """SYNs or connections the appliance's listening sockets dropped (full backlog)."""
    out = run(["ip", "netns", "exec", APPLIANCE_NS, "nstat", "-az", "TcpExtListenDrops"]).stdout
    return sum(int(line.split()[1]) for line in out.splitlines()
               if line.startswith("TcpExtListenDrops"))


def host_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def argon2_alone(rounds: int = 20) -> tuple[float, float]:
    """(wall ms, CPU ms) of one argon2id verification, in this process, now."""
    digest = passwords.hash_password(PASSWORD)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        passwords.verify(digest, PASSWORD)
    return ((time.perf_counter() - wall) / rounds * 1e3,
            (time.process_time() - cpu) / rounds * 1e3)


def burst(lab: LabDriver, count: int, seconds: float) -> list[dict[str, object]]:
    config = json.loads(PORTAL_JSON.read_text())
    logins = make_accounts(lab, count, config["charter_version"])
    addresses = [str(FIRST + i) for i in range(count)]
    per_node = {ns: addresses[i::len(NODES)] for i, ns in enumerate(NODES)}
    for ns, mine in per_node.items():
        batch = "".join(f"addr add {a}/21 dev eth0\n" for a in mine)
        run(["ip", "-n", ns, "-batch", "-"], input_text=batch)
    portal = portal_proc(lab)
    cpu0, kids0, drops0 = proc_cpu(portal.pid), children_cpu(portal.pid), listen_drops()
    busy0, total0 = host_ticks()
    print(f"load average before: {load()}")
    try:
        workers = []
        for ns, mine in per_node.items():
            jobs = "".join(f"{a} {logins[addresses.index(a)]} {PASSWORD}\n" for a in mine)
            proc = popen(["ip", "netns", "exec", ns, sys.executable,
                          str(Path(__file__).with_name("portal_worker.py")),
                          str(len(mine) / seconds)], stdin=PIPE, stdout=PIPE)
            workers.append((proc, jobs))
        started = time.monotonic()
        # Both workers at once (one communicate after the other would run them in series).
        with ThreadPoolExecutor(len(workers)) as pool:
            outs = list(pool.map(lambda w: w[0].communicate(
                w[1].encode(), timeout=seconds + 120)[0].decode(), workers))
        wall = time.monotonic() - started
        cpu, kids = proc_cpu(portal.pid) - cpu0, children_cpu(portal.pid) - kids0
        drops = listen_drops() - drops0
        busy1, total1 = host_ticks()
        print(f"host CPU busy during the burst: {(busy1 - busy0) / (total1 - total0):.0%} "
              f"of {os.cpu_count()} cores")
        print(f"load average after:  {load()}")
    finally:
        for ns, mine in per_node.items():
            batch = "".join(f"addr del {a}/21 dev eth0\n" for a in mine)
            run(["ip", "-n", ns, "-batch", "-"], input_text=batch, check=False)
        cleanup = ("from pathlib import Path\n"
                   "from network.portal.config import PortalConfig\n"
                   "from network.portal.daemon import build\n"
                   "a = build(PortalConfig.load(Path(\n"
                   f"    '{PORTAL_JSON}')))\n"
                   "for s in a.own_sessions():\n"
                   "    if s.login.startswith('bench.'): a.close(s, 'logout')\n")
        run(["ip", "netns", "exec", APPLIANCE_NS, sys.executable, "-c", cleanup],
            env={"PYTHONPATH": str(Path(__file__).resolve().parents[1])}, timeout=300)
    lines = [json.loads(line) for out in outs for line in out.splitlines() if line.strip()]
    results = [r for r in lines if "ip" in r]
    client_cpu = sum(float(r["cpu_s"]) for r in lines if "cpu_s" in r)
    print(f"{len(results)} logins in {wall:.1f} s (started at {count / seconds:.0f}/s)")
    print(f"portal CPU: {cpu:.1f} s + {kids:.1f} s in its children (nft) = "
          f"{(cpu + kids) / max(1, count) * 1e3:.1f} ms per login; "
          f"load generator CPU {client_cpu:.1f} s ({client_cpu / max(1, count) * 1e3:.1f} ms "
          f"per login); SYNs dropped on a full listen backlog: {drops}")
    errors = Counter(f"{r.get('stage')}: {r.get('error')}" for r in results if not r.get("ok"))
    for why, n in errors.most_common(10):
        print(f"  error x{n}: {why}")
    return results


def flood(src_ns: str, dst: str, count: int) -> float:
    out = run(["ip", "netns", "exec", src_ns, "ping", "-f", "-q", "-c", str(count), dst],
              timeout=120).stdout
    return float(out.split("rtt min/avg/max/mdev = ")[1].split("/")[1])  # avg ms


def gate_cost(rounds: int, count: int) -> tuple[list[float], list[float], float, float]:
    c, r, s = "carine-bench-c", "carine-bench-r", "carine-bench-s"
    try:
        for ns in (c, r, s):
            run(["ip", "netns", "add", ns])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "link", "add", "eth0", "netns", c, "type", "veth", "peer", "name", "eth1.40",
             "netns", r])
        run(["ip", "link", "add", "eth0", "netns", r, "type", "veth", "peer", "name", "eth0",
             "netns", s])
        for ns, dev, addr in ((c, "eth0", "10.40.0.10/21"), (r, "eth1.40", "10.40.0.1/21"),
                              (r, "eth0", "198.18.0.2/24"), (s, "eth0", "198.18.0.1/24")):
            run(["ip", "-n", ns, "addr", "add", addr, "dev", dev])
            run(["ip", "-n", ns, "link", "set", dev, "up"])
        run(["ip", "-n", c, "route", "add", "default", "via", "10.40.0.1"])
        run(["ip", "-n", s, "route", "add", "10.40.0.0/21", "via", "198.18.0.2"])
        run(["ip", "netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        run(["ip", "netns", "exec", r, "nft", "-f", "/run/carine-lab/tree/etc/nftables.conf"])
        run(["ip", "netns", "exec", r, "nft", "add", "rule", "inet", "carine", "forward",
             "iifname", "eth1.40", "oifname", "eth0", "accept"])
        run(["ip", "netns", "exec", r, "nft", "add", "element", "inet", "carine", "authorised",
             "{ 10.40.0.10 timeout 1h }"])
        run(["ip", "netns", "exec", r, "nft", "add", "element", "inet", "carine",
             "portal_idle_30", "{ 10.40.0.10 timeout 1h }"])
        others = [str(IPv4Address("10.41.0.0") + i) for i in range(10_000)]
        fill = "".join(f"add element inet carine authorised {{ {a} timeout 1h }}\n"
                       f"add element inet carine portal_idle_30 {{ {a} timeout 1h }}\n"
                       for a in others)
        empty = "".join(f"delete element inet carine authorised {{ {a} }}\n"
                        f"delete element inet carine portal_idle_30 {{ {a} }}\n" for a in others)
        flood(c, "198.18.0.1", 2000)  # warm up
        zero: list[float] = []
        full: list[float] = []
        add_s = list_s = 0.0
        for _ in range(rounds):
            zero.append(flood(c, "198.18.0.1", count))
            t = time.perf_counter()
            run(["ip", "netns", "exec", r, "nft", "-f", "-"], input_text=fill, timeout=120)
            add_s = time.perf_counter() - t
            t = time.perf_counter()
            run(["ip", "netns", "exec", r, "nft", "-j", "list", "set", "inet", "carine",
                 "authorised"], timeout=120)
            list_s = time.perf_counter() - t
            full.append(flood(c, "198.18.0.1", count))
            run(["ip", "netns", "exec", r, "nft", "-f", "-"], input_text=empty, timeout=120)
        return zero, full, add_s, list_s
    finally:
        for ns in (c, r, s):
            run(["ip", "netns", "del", ns], check=False)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--logins", type=int, default=1000)
    p.add_argument("--seconds", type=float, default=50.0, help="spread the logins over this")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--pings", type=int, default=20000)
    p.add_argument("--restart-portal", action="store_true",
                   help="restart the lab's portal first (to run this tree's code)")
    p.add_argument("--no-gate", action="store_true", help="the login burst only")
    p.add_argument("--baseline", type=Path, metavar="DIR",
                   help="also run the burst with the portal of this checkout (e.g. `git archive "
                        "a65a86e | tar -x -C DIR`), first, and print the ratio last")
    p.add_argument("--nice", type=int, help="run the lab's portal at this nice value (every "
                   "thread), as a service unit's Nice= would: how much is CPU share")
    args = p.parse_args()
    lab = LabDriver()
    wall, cpu = argon2_alone()
    print(f"argon2id verify alone (t=2, m=19 MiB, p=1), here and now: {wall:.1f} ms wall, "
          f"{cpu:.1f} ms CPU")
    runs: dict[str, tuple[int, list[float]]] = {}
    for name, code in ((("baseline", args.baseline),) if args.baseline else ()) + (
            ("this tree", None),):
        if code is not None or args.restart_portal or args.baseline:
            print(f"portal ({name}) restarted, pid {restart_portal(lab, code).pid}")
        if args.nice is not None:
            renice(portal_proc(lab).pid, args.nice)
        print(f"== burst, portal of {name}" + (f", nice {args.nice}" if args.nice else ""))
        runs[name] = report(burst(lab, args.logins, args.seconds), args.logins)
    errors = runs["this tree"][0]
    if args.no_gate and not args.baseline:
        return 0 if errors == 0 else 1
    if not args.no_gate:
        gate(args.rounds, args.pings)
    if args.baseline:
        (base_errors, base), (_, ours) = runs["baseline"], runs["this tree"]
        print(f"RATIO this tree / baseline, login to first proxied 200: p50 "
              f"{pct(ours, 50) / pct(base, 50):.2f}, p99 {pct(ours, 99) / pct(base, 99):.2f}; "
              f"errors {errors} against {base_errors}")
    return 0 if errors == 0 else 1


def report(results: list[dict[str, object]], count: int) -> tuple[int, list[float]]:
    good = [r for r in results if r.get("ok")]
    errors = count - len(good)
    login = [float(str(r["login_ms"])) for r in good]
    traffic = [float(str(r["traffic_ms"])) for r in good]
    print(f"errors: {errors} of {count}")
    if good:
        print(f"POST /connexion answered:      p50 {pct(login, 50):6.1f} ms  "
              f"p99 {pct(login, 99):6.1f} ms")
        print(f"login to first proxied 200:    p50 {pct(traffic, 50):6.1f} ms  "
              f"p99 {pct(traffic, 99):6.1f} ms  (target p99 <= 200 ms)")
    return errors, traffic or [float("nan")]


def gate(rounds: int, pings: int) -> None:
    zero, full, add_s, list_s = gate_cost(rounds, pings)
    print(f"10,000 elements (+ idle class): added in one nft batch {add_s:.2f} s, "
          f"listed as JSON {list_s:.2f} s")
    print(f"forwarded flood ping avg RTT, 0 elements:      {statistics.mean(zero) * 1e3:.1f} µs "
          f"{[round(z * 1e3, 1) for z in zero]}")
    print(f"forwarded flood ping avg RTT, 10,000 elements: {statistics.mean(full) * 1e3:.1f} µs "
          f"{[round(f * 1e3, 1) for f in full]}")
    print(f"ratio 10,000 / 0 elements: {statistics.mean(full) / statistics.mean(zero):.3f}")


if __name__ == "__main__":
    sys.exit(main())
