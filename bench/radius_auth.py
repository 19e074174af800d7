"""802.1X authentications per second through the real FreeRADIUS: CARINE's rendered configuration
with its Python backend on a directory of 100,000 accounts, against the same FreeRADIUS with
Debian's plain ``files`` module for the same test users (same EAP, TLS, clients and threads).

    .venv/bin/python bench/radius_auth.py [--accounts 100000] [--duration 15] [--parallel 8]
                                          [--methods peap,tls,ttls] [--rate 50]

Each side runs alone in its own namespace (carine-radius-b1, carine-radius-b2), one after the
other for each method, bounded in time. Load: ``--parallel`` eapol_test processes in loops (a new
TLS session each time: no resumption), users taken round-robin among 20 test accounts. Latency
is each eapol_test run end to end (process start included, as MoJ measured it). ``--rate``:
then an open-loop run at that many authentications/s (PEAP, CARINE side), for p99 at the issue's
target rate. Targets (issue 5): CARINE >= 0.9 of the files rate, p99 <= 1 s at 50 auth/s.
The ratio CARINE/files is printed last. Needs root; work files in /var/tmp/carine-bench-radius."""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from appliance.directory.schema import prepare
from appliance.site import load_site
from network.radius import certs, issued
from network.radius.testbed import Testbed, add_account, add_filler

SITE = Path(__file__).resolve().parents[1] / "examples" / "site.yaml"
WORK = Path("/var/tmp/carine-bench-radius")
USERS = [(f"bench{i:02d}", f"Mot-de-passe-{i:02d}x", "eleve" if i % 2 else "enseignant")
         for i in range(20)]

BASELINE_SITES = {
    "sites-enabled/default": """server default {
listen {
	type = auth
	ipaddr = 127.0.0.1
	port = 1812
}
authorize {
	eap {
		ok = return
	}
}
authenticate {
	eap
}
post-auth {
	update {
		&reply: += &session-state:
	}
	Post-Auth-Type REJECT {
		eap
	}
}
}
""",
    "sites-enabled/inner-tunnel": """server inner-tunnel {
authorize {
	files
	mschap
	pap
	eap {
		ok = return
	}
}
authenticate {
	Auth-Type PAP {
		pap
	}
	Auth-Type MS-CHAP {
		mschap
	}
	eap
}
post-auth {
	update reply {
		&Message-Authenticator !* ANY
		&EAP-Message !* ANY
		&MS-MPPE-Encryption-Types !* ANY
		&MS-MPPE-Encryption-Policy !* ANY
		&MS-MPPE-Send-Key !* ANY
		&MS-MPPE-Recv-Key !* ANY
		&MS-CHAP2-Success !* ANY
	}
	update {
		&outer.session-state: += &reply:
	}
}
}
""",
    "sites-enabled/check-eap-tls": """server check-eap-tls {
authorize {
	files
	update config {
		&Auth-Type := Accept
	}
}
}
""",
    "mods-enabled/carine": "files {\n\tfilename = ${confdir}/users\n}\npap {\n}\n",
}


def baseline_users(cert_name: str) -> str:
    lines = []
    for login, password, profile in USERS:
        vlan = 30 if profile == "eleve" else 20
        lines.append(f'{login}\tCleartext-Password := "{password}"\n'
                     f'\tTunnel-Type = VLAN, Tunnel-Medium-Type = IEEE-802, '
                     f'Tunnel-Private-Group-Id = "{vlan}", Class = "carine:u:{login}"\n')
    lines.append(f'{cert_name}\n\tTunnel-Type = VLAN, Tunnel-Medium-Type = IEEE-802, '
                 f'Tunnel-Private-Group-Id = "20"\n')
    return "\n".join(lines)


def make_side(name: str, ns: str, accounts: int) -> tuple[Testbed, Path, Path]:
    bed = Testbed(load_site(SITE), WORK / name, ns=ns)
    bed.work.mkdir(parents=True, exist_ok=True)
    bed.prepare()
    conn = sqlite3.connect(bed.state_db)
    prepare(conn)
    for login, password, profile in USERS:
        add_account(conn, login, password, profile)
    add_filler(conn, max(0, accounts - len(USERS)))
    count = conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
    conn.close()
    cert, key = issued.issue(bed.paths, "bench-tablette", USERS[0][0])
    ca, _ = certs.load_ca(bed.paths)
    key_path, cert_path, _ = issued.export(cert, key, ca, bed.work / "client", "pem", None)
    if name == "files":
        for path, text in BASELINE_SITES.items():
            (bed.confdir / path).write_text(text, encoding="utf-8")
        (bed.confdir / "users").write_text(baseline_users("bench-tablette"), encoding="utf-8")
    print(f"{name}: {count:,} accounts in the directory, config {bed.confdir}", flush=True)
    return bed, key_path, cert_path


def one(bed: Testbed, method: str, i: int, key: Path, cert: Path) -> tuple[bool, float]:
    login, password, _ = USERS[i % len(USERS)]
    start = time.perf_counter()
    if method == "tls":
        result = bed.eapol("tls", "bench-tablette", cert=cert, key=key, timeout=10)
    else:
        result = bed.eapol(method, login, password, timeout=10)
    return result.returncode == 0, time.perf_counter() - start


def closed_loop(bed: Testbed, method: str, parallel: int, duration: float, key: Path,
                cert: Path) -> dict[str, float]:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker(k: int) -> None:
        i = k
        while time.monotonic() < stop:
            ok, took = one(bed, method, i, key, cert)
            with lock:
                if ok:
                    latencies.append(took)
                else:
                    failures[0] += 1
            i += parallel

    began = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - began
    return summary(latencies, failures[0], elapsed)


def open_loop(bed: Testbed, method: str, rate: float, duration: float, key: Path,
              cert: Path) -> dict[str, float]:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def fire(i: int) -> None:
        ok, took = one(bed, method, i, key, cert)
        with lock:
            if ok:
                latencies.append(took)
            else:
                failures[0] += 1

    threads = []
    began = time.monotonic()
    for i in range(int(rate * duration)):
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t = threading.Thread(target=fire, args=(i,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    return summary(latencies, failures[0], time.monotonic() - began)


def summary(latencies: list[float], failures: int, elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies) or [float("nan")]
    return {"rate": len(latencies) / elapsed, "ok": len(latencies), "failed": failures,
            "p50": statistics.median(ordered), "p99": ordered[min(len(ordered) - 1,
                                                                  int(len(ordered) * 0.99))]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--duration", type=float, default=15)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--methods", default="peap,tls")
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    sides = {"carine": make_side("carine", "carine-radius-b1", args.accounts),
             "files": make_side("files", "carine-radius-b2", args.accounts)}
    results: dict[tuple[str, str], dict[str, float]] = {}
    try:
        for method in args.methods.split(","):
            for name in ("files", "carine") if method == "tls" else ("carine", "files"):
                bed, key, cert = sides[name]
                bed.start()
                one(bed, method, 0, key, cert)  # warm-up: modules loaded, pages touched
                results[(method, name)] = r = closed_loop(bed, method, args.parallel,
                                                          args.duration, key, cert)
                bed.stop()
                print(f"{method:5} {name:7} {r['rate']:7.1f} auth/s  p50 {r['p50'] * 1000:6.0f} ms"
                      f"  p99 {r['p99'] * 1000:6.0f} ms  ok {r['ok']:.0f} failed {r['failed']:.0f}",
                      flush=True)
        if args.rate > 0:
            bed, key, cert = sides["carine"]
            bed.start()
            r = open_loop(bed, "peap", args.rate, args.duration, key, cert)
            bed.stop()
            print(f"peap  carine at {args.rate:.0f}/s offered: {r['rate']:.1f} auth/s done, "
                  f"p50 {r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms, "
                  f"failed {r['failed']:.0f} (target p99 <= 1000 ms)", flush=True)
    finally:
        for bed, _, _ in sides.values():
            bed.stop()
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)
    ratios = [f"{m} {results[(m, 'carine')]['rate'] / results[(m, 'files')]['rate']:.2f}"
              for m in args.methods.split(",") if results[(m, "files")]["rate"] > 0]
    print(f"ratio carine/files (auth/s, target >= 0.9): {', '.join(ratios)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
