"""The probes themselves: one coroutine per job (a target's DNS, a target along one path, the
uplink), each bounded by its timeout, at most ``concurrency`` at once, scapy in a thread pool."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from typing import Any

from monitoring.probes import icmp
from monitoring.probes.config import Endpoint, ProberConfig, TargetSpec
from monitoring.probes.dnsprobe import LookupFailed, lookup
from monitoring.probes.http import fetch, peer_certificate
from monitoring.probes.outcome import STAGES, CertInfo, Phases, dns_row, fetch_rows
from monitoring.probes.results import Check
from monitoring.probes.tlscheck import UNTRUSTED, cert_facts, client_context, insecure_context

UPLINK_INTERVAL = 60.0
UPLINK = "uplink"


@dataclass(frozen=True)
class Job:
    """What one scheduled probe does: ``kind`` dns|direct|proxy for a target, or uplink."""

    key: str
    kind: str
    interval: float
    target: TargetSpec | None = None


def jobs(config: ProberConfig) -> list[Job]:
    out = []
    for t in config.targets:
        out.append(Job(f"{t.name}/dns", "dns", t.interval, t))
        out += [Job(f"{t.name}/{path}", path, t.interval, t) for path in t.paths
                if path == "direct" or config.proxy is not None]
    if config.gateway_ping:
        out.append(Job(UPLINK, UPLINK, UPLINK_INTERVAL))
    return out


class Prober:
    """Runs jobs; knows the resolvers, the proxy, the CA bundle and the clocks."""

    def __init__(self, config: ProberConfig, executor: Executor,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.config, self.executor, self.clock, self.wall = config, executor, clock, wall
        self.semaphore = asyncio.Semaphore(config.concurrency)
        self.ctx = client_context(config.ca_file)
        self.trace: dict[str, Any] | None = None

    async def run(self, job: Job) -> list[Check]:
        async with self.semaphore:
            if job.kind == UPLINK:
                return await self.uplink()
            assert job.target is not None
            if job.kind == "dns":
                return await self.dns(job.target)
            return await self.path(job.target, job.kind)

    async def dns(self, t: TargetSpec) -> list[Check]:
        servers = [("appliance", self.config.resolver)]
        if self.config.upstream is not None:
            servers.append(("upstream", self.config.upstream))
        rows = []
        for label, server in servers:
            try:
                found = await lookup(t.host, server, t.timeout, self.clock)
                rows.append(dns_row(t, label, now=self.wall(), seconds=found.seconds, error=None))
            except LookupFailed as exc:
                rows.append(dns_row(t, label, now=self.wall(), seconds=None, error=str(exc)))
        return rows

    async def path(self, t: TargetSpec, path: str) -> list[Check]:
        rows = await self._page(t, t.url, path, STAGES, t.expect)
        login = t.login_url()
        if login is not None:
            rows += await self._page(t, login, path, ("http",), t.login_expect)
        return rows

    async def _page(self, t: TargetSpec, url: str, path: str, stages: tuple[str, ...],
                    expect: str | None) -> list[Check]:
        proxy = self.config.proxy if path == "proxy" else None
        ph = Phases(start=self.clock())
        try:
            async with asyncio.timeout(t.timeout):
                await fetch(url, ph, proxy=proxy, resolver=self.config.resolver, ctx=self.ctx,
                            dns_timeout=t.timeout, clock=self.clock)
        except TimeoutError:
            ph.fail(f"no answer within {t.timeout:g}s")
        cert = await self._certificate(t, url, ph, proxy) if "tls" in stages else None
        return fetch_rows(t.name, url, path, ph, now=self.wall(), interval=t.interval,
                          objective=t.objective, expect=expect, cert=cert, stages=stages)

    async def _certificate(self, t: TargetSpec, url: str, ph: Phases,
                           proxy: Endpoint | None) -> CertInfo | None:
        der = ph.cert_der
        if der is None and ph.verify_code is not None:
            # Verification failed: look again, unverified, to say what is wrong and until when.
            try:
                async with asyncio.timeout(t.timeout):
                    der = await peer_certificate(url, address=ph.address, proxy=proxy,
                                                 ctx=insecure_context())
            except (TimeoutError, OSError, ValueError):
                der = None
        if der is None:
            return None
        try:
            facts = cert_facts(der, t.host)
        except ValueError:  # a certificate cryptography cannot read: the TLS row says enough
            return None
        chain = ph.tls is not None or ph.verify_code not in UNTRUSTED
        return CertInfo(facts.not_after, chain, facts.name_match)

    async def uplink(self) -> list[Check]:
        gateway = self.config.gateway or icmp.system_gateway()
        now = self.wall()
        if gateway is None:
            return [Check(UPLINK, "-", "icmp", "direct", False, now, UPLINK_INTERVAL,
                          error="no default gateway")]
        loop = asyncio.get_running_loop()
        try:
            echo = await loop.run_in_executor(self.executor, icmp.ping, gateway)
        except Exception as exc:  # scapy raises many kinds: no raw socket, no route...
            return [Check(UPLINK, gateway, "icmp", "direct", False, now, UPLINK_INTERVAL,
                          error=f"cannot ping: {exc}")]
        row = Check(UPLINK, gateway, "icmp", "direct", echo.received > 0, self.wall(),
                    UPLINK_INTERVAL, duration=echo.rtt,
                    error=None if echo.received else f"no echo reply out of {echo.sent}")
        await self._trace(loop)
        return [row]

    async def _trace(self, loop: asyncio.AbstractEventLoop) -> None:
        destination = await self._trace_destination()
        if destination is None:
            return
        try:
            path = await loop.run_in_executor(self.executor, icmp.trace, destination)
        except Exception:  # the trace is a diagnosis: its failure must not fail the ping
            return
        self.trace = {"destination": destination, "timestamp": self.wall(),
                      "hops": [asdict(h) for h in path]}

    async def _trace_destination(self) -> str | None:
        """The first target's address (the site's own come first: its ENT), else the upstream
        resolver: both lie beyond the gateway."""
        for t in self.config.targets:
            try:
                return (await lookup(t.host, self.config.resolver, 2.0)).addresses[0]
            except LookupFailed:
                continue
        return self.config.upstream.address if self.config.upstream else None
