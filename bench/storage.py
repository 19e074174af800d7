"""Small-file WebDAV operations per second through CARINE's storage (directory authentication,
rights, quotas, with and without antivirus) against a bare WsgiDAV on the same folder, the same
TLS, cheroot and thread count; then a 1 GiB upload's server memory and a class's burst.

    .venv/bin/python bench/storage.py [--rounds 5] [--cycles 30] [--clients 20] [--keep]

Each cycle of a client is PUT + PROPFIND (Depth 0) + GET of one 4 KiB file in its own folder
(ours: the pupil's /perso/, the bare server: homes/<login>/ of the same tree), 3 operations, on
one kept-alive HTTPS connection per client; ``--clients`` clients in 4 processes start together
(a barrier). Every round runs each server in turn (order alternating); the headline is the
median of the per-round ratios ours/bare, printed last. The antivirus is a real clamd with a
local one-signature database (EICAR): the scan's round trip is measured, not the cost of the
full signature set (which Debian's freshclam downloads; /var/lib/clamav is empty here).
Targets (issue 13): ours with antivirus >= 0.8 of bare, >= 500 ops/s without antivirus; the
1 GiB upload keeps the server under 100 MB resident; 35 pupils uploading 5 MB each at once all
succeed within 3 s. Needs no root; work files in /var/tmp/carine-bench-storage-*."""

from __future__ import annotations

import argparse
import base64
import http.client
import multiprocessing as mp
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import VENV_BIN, Popen, popen, proc_status, stop, table

PASSWORD = "Mot-de-passe-bench-1"  # noqa: S105 (the bench accounts' own)
PUPILS = 60
BLOCK = 4096
EICAR_HEX = ("58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e44415244"
             "2d414e544956495255532d544553542d46494c452124482b482a")


def login_of(i: int) -> str:
    return f"eleve.b{i:02d}"


def make_store(path: Path) -> None:
    from appliance.directory import accounts, people
    from appliance.directory.schema import open_directory
    conn = open_directory(path)
    staff = [("prof.bench", "enseignant", "Prof", "Bench")]
    for login, profile, first, last in [(login_of(i), "eleve", f"B{i:02d}", "Eleve")
                                        for i in range(PUPILS)] + staff:
        pid, _ = people.upsert(conn, people.Person(None, f"local-{login}", "local", first,
                                                   last, profile), 0)
        people.set_groups(conn, pid, "0691234X", [("3A", "3A", "class")])
        aid = accounts.create(conn, pid, login, PASSWORD, 0)
        accounts.set_password(conn, aid, PASSWORD, 0)
    conn.commit()
    conn.close()


def write_config(work: Path, name: str, antivirus: bool, clamd: Path | None) -> Path:
    from storage.config import Quotas, StorageConfig
    cfg = StorageConfig(
        listen=("127.0.0.1",), port=0, root=work / "tree", store=work / "state.sqlite",
        tls=work / "tls.pem", hostname="carine.lan",
        profiles={"eleve": "pupil", "enseignant": "teacher", "personnel": "staff"},
        quotas=Quotas(pupil=500_000_000, teacher=4_000_000_000, staff=1_000_000_000),
        antivirus=antivirus, clamd_socket=str(clamd or "/nonexistent"),
        scan_max_bytes=200_000_000)
    path = work / f"{name}.json"
    path.write_text(cfg.dump(), encoding="utf-8")
    return path


BARE = """
import sys, logging
from cheroot.wsgi import Server
from cheroot.ssl.builtin import BuiltinSSLAdapter
from wsgidav.wsgidav_app import WsgiDAVApp
root, port, tls, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
app = WsgiDAVApp({"provider_mapping": {"/": root}, "simple_dc": {"user_mapping": {"*": True}},
                  "verbose": 1, "logging": {"enable": False}})
logging.getLogger("wsgidav").setLevel(logging.WARNING)
server = Server(("127.0.0.1", port), app, numthreads=threads, server_name="bare",
                request_queue_size=256)
server.ssl_adapter = BuiltinSSLAdapter(tls, tls)
server.safe_start()
"""


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: Popen[bytes], log: Path) -> None:
    import socket
    for _ in range(600):  # readiness, not a timed measurement
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server never listened on {port}")


@contextmanager
def server(argv: list[str], port: int, log: Path) -> Iterator[Popen[bytes]]:
    with log.open("wb") as out:
        proc = popen(argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        wait_port(port, proc, log)
        yield proc
    finally:
        stop(proc)


@contextmanager
def clamd(work: Path) -> Iterator[Path]:
    binary = shutil.which("clamd") or "/usr/sbin/clamd"
    db = work / "clamav-db"
    db.mkdir(exist_ok=True)
    (db / "carine-test.ndb").write_text(f"Carine-Test-EICAR:0:*:{EICAR_HEX}\n")
    sock = work / "clamd.sock"
    conf = work / "clamd.conf"
    conf.write_text(f"LocalSocket {sock}\nDatabaseDirectory {db}\nForeground yes\n"
                    f"LogFile {work / 'clamd.log'}\nStreamMaxLength 200M\nMaxThreads 24\n"
                    f"MaxQueue 200\n")
    with (work / "clamd.out").open("wb") as out:
        proc = popen([binary, "-c", str(conf)], stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    try:
        for _ in range(600):
            if sock.exists():
                break
            time.sleep(0.05)
        else:
            raise SystemExit("clamd did not start: " + (work / "clamd.out").read_text())
        yield sock
    finally:
        stop(proc)


# ---- clients -------------------------------------------------------------------------------

def connect(port: int) -> http.client.HTTPSConnection:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=120)


def auth(login: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{PASSWORD}".encode())
            .decode()}


def request(conn: http.client.HTTPSConnection, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> int:
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def base_of(side: str, login: str) -> str:
    return "/perso/" if side != "bare" else f"/homes/{login}/"


def small_files(side: str, port: int, clients: list[int], cycles: int, barrier: Any,
                results: Any) -> None:
    """One process's clients: connect (untimed), the barrier, then the cycles."""
    def one(client: int) -> None:
        login = login_of(client)
        head = auth(login)
        base = base_of(side, login)
        conn = connect(port)
        request(conn, "PROPFIND", base, headers={**head, "Depth": "0"})   # TLS + first auth
        barrier.wait()
        ok = bad = 0
        data = os.urandom(BLOCK)
        for i in range(cycles):
            path = f"{base}b-{client}-{i}.bin"
            for method, body, extra, good in (("PUT", data, {}, (201, 204)),
                                              ("PROPFIND", None, {"Depth": "0"}, (207,)),
                                              ("GET", None, {}, (200,))):
                try:
                    status = request(conn, method, path, body, {**head, **extra})
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = connect(port)
                    status = 0
                if status in good:
                    ok += 1
                else:
                    bad += 1
        conn.close()
        results.put((ok, bad))
    threads = [threading.Thread(target=one, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_round(side: str, port: int, clients: int, cycles: int) -> tuple[float, int, int]:
    """(ops/s, ok, errors) of one round: ``clients`` clients in 4 processes."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(clients + 1)
    results = ctx.Queue()
    groups = [list(range(clients))[k::4] for k in range(4)]
    procs = [ctx.Process(target=small_files, args=(side, port, g, cycles, barrier, results))
             for g in groups if g]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    got = [results.get() for _ in range(clients)]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join()
    ok, bad = sum(g[0] for g in got), sum(g[1] for g in got)
    return ok / elapsed, ok, bad


def burst(side: str, port: int, first: int, pupils: int, size: int) -> tuple[float, int]:
    """``pupils`` pupils connect and upload ``size`` bytes each at once: (seconds, successes).
    Each connects inside the timed part (TLS, and the first argon2 check if cold)."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(pupils + 1)
    results = ctx.Queue()
    body = os.urandom(size)

    def group(members: list[int]) -> None:
        def one(i: int) -> None:
            login = login_of(i)
            barrier.wait()
            try:
                conn = connect(port)
                status = request(conn, "PUT", f"{base_of(side, login)}burst.bin", body,
                                 auth(login))
                conn.close()
            except (OSError, http.client.HTTPException):
                status = 0
            results.put((time.perf_counter(), status in (201, 204)))
        threads = [threading.Thread(target=one, args=(i,)) for i in members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    members = list(range(first, first + pupils))
    procs = [ctx.Process(target=group, args=(members[k::5],)) for k in range(5)]
    for p in procs:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    got = [results.get() for _ in range(pupils)]
    for p in procs:
        p.join()
    return max(g[0] for g in got) - started, sum(1 for g in got if g[1])


def big_upload(port: int, pid: int, size: int) -> tuple[int, float, int]:
    """A teacher's ``size``-byte upload, streamed; (status, seconds, peak VmRSS kB seen)."""
    peak = [0]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc_status(pid).get("VmRSS", 0))
            time.sleep(0.05)

    def chunks() -> Iterator[bytes]:
        block = os.urandom(1 << 20)
        for _ in range(size >> 20):
            yield block
    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.perf_counter()
    conn = connect(port)
    status = request(conn, "PUT", "/perso/gros.bin", chunks(),
                     {**auth("prof.bench"), "Content-Length": str(size)})
    conn.close()
    elapsed = time.perf_counter() - started
    done.set()
    watcher.join()
    return status, elapsed, peak[0]


# ---- the run -------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--cycles", type=int, default=30, help="cycles per client per round")
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--threads", type=int, default=24, help="server threads (both sides)")
    p.add_argument("--big-mib", type=int, default=1024, help="the big upload, MiB")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="carine-bench-storage-", dir="/var/tmp"))
    try:
        return run(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"work files kept in {work}")


def run(args: argparse.Namespace, work: Path) -> int:
    from appliance.tls import write_self_signed
    write_self_signed(work / "tls.pem", "carine.lan")
    make_store(work / "state.sqlite")
    for i in range(PUPILS):  # the bare side writes in the same folders
        (work / "tree/homes" / login_of(i)).mkdir(parents=True, exist_ok=True)
    ports = {"ours+av": free_port(), "ours": free_port(), "bare": free_port()}
    threads = str(args.threads)
    python = str(VENV_BIN / "python")
    with clamd(work) as sock:
        argv = {
            "ours+av": [str(VENV_BIN / "carine-storage"), "--config",
                        str(write_config(work, "av", True, sock)), "--port",
                        str(ports["ours+av"]), "--threads", threads],
            "ours": [str(VENV_BIN / "carine-storage"), "--config",
                     str(write_config(work, "noav", False, None)), "--port",
                     str(ports["ours"]), "--threads", threads],
            "bare": [python, "-c", BARE, str(work / "tree"), str(ports["bare"]),
                     str(work / "tls.pem"), threads]}
        return measure(args, work, ports, argv)


def measure(args: argparse.Namespace, work: Path, ports: dict[str, int],
            argv: dict[str, list[str]]) -> int:
    sides = list(ports)
    rates: dict[str, list[float]] = {s: [] for s in sides}
    errors = dict.fromkeys(sides, 0)
    with server(argv["ours+av"], ports["ours+av"], work / "ours-av.log") as av, \
            server(argv["ours"], ports["ours"], work / "ours.log") as ours, \
            server(argv["bare"], ports["bare"], work / "bare.log") as bare:
        procs = {"ours+av": av, "ours": ours, "bare": bare}
        for side in sides:  # warm-up: every file exists, every password is remembered
            run_round(side, ports[side], args.clients, args.cycles)
        for r in range(args.rounds):
            order = sides if r % 2 == 0 else sides[::-1]
            for side in order:
                rate, _ok, bad = run_round(side, ports[side], args.clients, args.cycles)
                rates[side].append(rate)
                errors[side] += bad
            print(f"round {r + 1}: " + ", ".join(f"{s} {rates[s][-1]:,.0f} ops/s"
                                                 for s in sides), flush=True)
        bursts = []
        first = args.clients   # pupils that never connected: cold (argon2 at first request)
        for side in sides:
            seconds, ok = burst(side, ports[side], first, 35, 5_000_000)
            bursts.append((side, "cold", f"{seconds:.2f}", f"{ok}/35"))
        for side in sides:
            seconds, ok = burst(side, ports[side], first, 35, 5_000_000)
            bursts.append((side, "warm", f"{seconds:.2f}", f"{ok}/35"))
        before = proc_status(ours.pid)
        status, seconds, peak = big_upload(ports["ours"], ours.pid, args.big_mib << 20)
        after = proc_status(ours.pid)
        rss = {s: proc_status(procs[s].pid) for s in sides}
    ratio_av = [a / b for a, b in zip(rates["ours+av"], rates["bare"], strict=True)]
    ratio = [a / b for a, b in zip(rates["ours"], rates["bare"], strict=True)]
    print()
    print(f"Small files: {args.clients} clients x {args.cycles} cycles (PUT+PROPFIND+GET of "
          f"4 KiB), {args.rounds} rounds, {args.threads} server threads")
    print(table(["side", "median ops/s", "min", "max", "errors", "VmHWM MiB"],
                [(s, f"{statistics.median(rates[s]):,.0f}", f"{min(rates[s]):,.0f}",
                  f"{max(rates[s]):,.0f}", errors[s], f"{rss[s]['VmHWM'] / 1024:,.1f}")
                 for s in sides]))
    print()
    print("Burst: 35 pupils connect and PUT 5 MB each at once (target: all succeed in 3 s)")
    print(table(["side", "auth", "seconds", "succeeded"], bursts))
    print()
    print(f"Big upload ({args.big_mib} MiB, ours without antivirus): status {status} in "
          f"{seconds:.1f} s; server VmRSS before {before['VmRSS'] / 1024:.1f} MiB, peak seen "
          f"during {peak / 1024:.1f} MiB, after {after['VmRSS'] / 1024:.1f} MiB "
          f"(target < 100 MB)")
    print(f"per-round ratios ours+av/bare: {', '.join(f'{x:.2f}' for x in ratio_av)}")
    print(f"per-round ratios ours/bare:    {', '.join(f'{x:.2f}' for x in ratio)}")
    print(f"median ratio ours (no antivirus)/bare: {statistics.median(ratio):.2f}")
    print(f"median ratio ours (auth, rights, quotas, antivirus)/bare: "
          f"{statistics.median(ratio_av):.2f}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
