"""Runs inside a lab client namespace for bench/portal_logins.py: each job logs one account in
from its own source address through the real portal (GET the form, POST it), then asks the web
through the proxy until it gets a 200; prints one JSON line per job (times in ms)."""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

PORTAL, PORT, HOST = "10.40.0.1", 8090, "carine.perrin.lan:8090"
WEB = "198.18.1.1"


def one(source: str, login: str, password: str) -> dict[str, object]:
    portal = http.client.HTTPConnection(PORTAL, PORT, timeout=10, source_address=(source, 0))
    portal.request("GET", "/connexion", headers={"Host": HOST})
    page = portal.getresponse()
    body = page.read().decode()
    cookie = (page.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "login": login, "password": password})
    started = time.perf_counter()
    portal.request("POST", "/connexion", body=data, headers={
        "Host": HOST, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
    answer = portal.getresponse()
    answer.read()
    logged = time.perf_counter()
    ok = answer.status == 303 and (answer.getheader("Location") or "").endswith("/statut")
    tries = 0
    while ok and time.perf_counter() - started < 5:
        tries += 1
        web = http.client.HTTPConnection(WEB, 80, timeout=5, source_address=(source, 0))
        try:
            web.request("GET", "/bench", headers={"Host": "www.example.org"})
            got = web.getresponse()
            got.read()
            if got.status == 200:
                break
        except OSError:
            pass
        finally:
            web.close()
    else:
        ok = False
    done = time.perf_counter()
    return {"ip": source, "ok": ok, "status": answer.status, "login_ms": (logged - started) * 1e3,
            "traffic_ms": (done - started) * 1e3, "tries": tries}


def main() -> None:
    jobs = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    rate = float(sys.argv[1])  # logins started per second
    lock = threading.Lock()
    t0 = time.perf_counter()

    def run(i: int, job: list[str]) -> None:
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            out = one(*job)
        except Exception as exc:  # a failed login is a result, not a crash
            out = {"ip": job[0], "ok": False, "error": repr(exc)[:200]}
        with lock:
            print(json.dumps(out), flush=True)

    with ThreadPoolExecutor(max_workers=64) as pool:
        for i, job in enumerate(jobs):
            pool.submit(run, i, job)


if __name__ == "__main__":
    main()
