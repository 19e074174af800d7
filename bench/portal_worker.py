"""Runs inside a lab client namespace for bench/portal_logins.py: each job logs one account in
from its own source address through the real portal (GET the form, POST it), then asks the web
through the proxy until it gets a 200; one JSON line per job (times in ms), then one line with
this process's CPU. One asyncio loop on raw sockets: the load generator must not be what
competes with the portal for the machine's two cores."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time
import urllib.parse

PORTAL, PORT, HOST = "10.40.0.1", 8090, "carine.perrin.lan:8090"
WEB = "198.18.1.1"
TIMEOUT = 10.0  # one request
TRAFFIC_SECONDS = 5.0  # after the login answered, how long the web may stay closed
TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


class Failed(Exception):
    """A job that did not get through, with the stage where it stopped."""

    def __init__(self, stage: str, why: str) -> None:
        super().__init__(f"{stage}: {why}")
        self.stage, self.why = stage, why


async def request(source: str, host: str, port: int, head: str, body: bytes = b""
                  ) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on its own connection (Connection: close), read to the end."""
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    try:
        writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        raw = await reader.read(-1)
    finally:
        writer.close()
    top, _, payload = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        raise ConnectionError(f"no HTTP answer ({len(raw)} bytes)")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, payload


async def timed(stage: str, coro: object) -> tuple[int, dict[str, str], bytes]:
    try:
        return await asyncio.wait_for(coro, TIMEOUT)  # type: ignore[arg-type]
    except TimeoutError as exc:
        raise Failed(stage, "timeout") from exc
    except OSError as exc:
        raise Failed(stage, type(exc).__name__) from exc


async def one(source: str, login: str, password: str) -> dict[str, object]:
    status, headers, body = await timed("form", request(
        source, PORTAL, PORT, f"GET /connexion HTTP/1.1\r\nHost: {HOST}\r\n"))
    found = TOKEN.search(body)
    if status != 200 or found is None:
        raise Failed("form", f"HTTP {status}")
    cookie = headers.get("set-cookie", "").split(";", 1)[0]
    data = urllib.parse.urlencode({"csrf_token": found.group(1).decode(), "login": login,
                                   "password": password}).encode()
    started = time.perf_counter()
    status, headers, _ = await timed("login", request(
        source, PORTAL, PORT,
        f"POST /connexion HTTP/1.1\r\nHost: {HOST}\r\nCookie: {cookie}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(data)}\r\n",
        data))
    logged = time.perf_counter()
    if status != 303 or not headers.get("location", "").endswith("/statut"):
        raise Failed("login", f"HTTP {status}")
    tries, seen = 0, []
    while time.perf_counter() - logged < TRAFFIC_SECONDS:
        tries += 1
        try:
            status, _, _ = await timed("traffic", request(
                source, WEB, 80, "GET /bench HTTP/1.1\r\nHost: www.example.org\r\n"))
        except Failed as exc:
            seen.append(exc.why)
            continue
        if status != 200:
            seen.append(f"HTTP {status}")
            await asyncio.sleep(0.01)  # not through yet: no hammering of the portal
            continue
        done = time.perf_counter()
        return {"ip": source, "ok": True, "login_ms": (logged - started) * 1e3,
                "traffic_ms": (done - started) * 1e3, "tries": tries}
    raise Failed("traffic", f"no 200 within {TRAFFIC_SECONDS:.0f} s of the login "
                            f"({', '.join(seen[-3:])})")


async def main() -> None:
    jobs = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    rate = float(sys.argv[1])  # logins started per second
    t0 = time.perf_counter()

    async def run(i: int, job: list[str]) -> None:
        await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
        try:
            out = await one(*job)
        except Failed as exc:
            out = {"ip": job[0], "ok": False, "stage": exc.stage, "error": exc.why}
        except Exception as exc:  # a failed login is a result, not a crash
            out = {"ip": job[0], "ok": False, "stage": "?", "error": repr(exc)[:200]}
        print(json.dumps(out), flush=True)

    await asyncio.gather(*(run(i, job) for i, job in enumerate(jobs)))
    use = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu_s": use.ru_utime + use.ru_stime}), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
