"""The runtime files behind the DNS views: SafeSearch hosts' addresses and the refused names.

Written at each list update (and when the lab starts), atomically; the views re-read them on
SIGHUP, so nothing restarts and no query goes unanswered."""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from appliance.files import write_atomic
from filtering.config import FilterConfig
from filtering.dns import BLOCKED_SERVERS, SAFESEARCH_HOSTS, TARGETS
from filtering.index import Index

log = logging.getLogger("carine.filter")
# Always refused in a blocking view: Firefox's canary (an NXDOMAIN here turns its default DoH
# off) and the best-known DoH endpoints, whatever the lists say.
ALWAYS_REFUSED = (
    "use-application-dns.net", "dns.google", "dns.google.com", "cloudflare-dns.com",
    "mozilla.cloudflare-dns.com", "chrome.cloudflare-dns.com", "one.one.one.one", "dns.quad9.net",
    "doh.opendns.com", "dns.nextdns.io", "dns.adguard.com", "doh.cleanbrowsing.org",
)
CIRCUMVENTION = ("redirector", "vpn", "doh", "remote-control")  # D-FIL-3
Resolver = Callable[[str], list[str]]


@dataclass(frozen=True)
class Refreshed:
    """What one refresh did."""

    resolved: int  # SafeSearch hosts resolved
    refused: int  # names the blocking views refuse
    told: int  # running views told to re-read

    def __str__(self) -> str:
        return (f"SafeSearch hosts resolved: {self.resolved}; names refused by DNS: "
                f"{self.refused:,}; views reloaded: {self.told}")


def system_resolver(name: str) -> list[str]:
    """IPv4 addresses of ``name`` through the appliance's own resolver."""
    infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def write_safesearch_hosts(path: Path, resolve: Resolver = system_resolver) -> int:
    """Resolve every SafeSearch host and write them in hosts format; returns how many resolved.

    A host that does not resolve keeps its previous addresses: SafeSearch must not fail open."""
    previous: dict[str, list[str]] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                previous.setdefault(parts[1], []).append(parts[0])
    lines = ["# SafeSearch hosts (D-FIL-4), resolved by CARINE; the DNS views CNAME to them."]
    resolved = 0
    for target in sorted(set(TARGETS.values())):
        try:
            addresses = resolve(target)
            resolved += 1
        except OSError as exc:
            addresses = previous.get(target, [])
            log.error("cannot resolve %s (%s): keeping %s", target, exc, addresses or "nothing")
        lines += [f"{address} {target}" for address in addresses]
    write_atomic(path, "\n".join(lines) + "\n")
    return resolved


def write_refused_names(path: Path, domains: Iterable[str]) -> int:
    """Write the names the blocking views answer NXDOMAIN (with their subdomains)."""
    names = sorted({*ALWAYS_REFUSED, *domains})
    body = "".join(f"server=/{name}/\n" for name in names if _safe(name))
    write_atomic(path, "# Names refused by the blocking DNS views (D-FIL-3).\n" + body)
    return body.count("\n")


def _safe(name: str) -> bool:
    # Only plain host names reach dnsmasq's configuration: no slash, space or '#'.
    return bool(name) and all(ch.isalnum() or ch in "-._" for ch in name)


def count_refusals(log_text: str) -> Counter[str]:
    """How often each refused name was asked, from a view's dnsmasq log (D-FIL-3 attempts)."""
    found: Counter[str] = Counter()
    for line in log_text.splitlines():
        if line.endswith(" is NXDOMAIN") and ": config " in line:
            found[line.rsplit(": config ", 1)[1].removesuffix(" is NXDOMAIN")] += 1
    return found


def reload_views(run_dir: Path) -> int:
    """SIGHUP every running DNS view (by its PID file); returns how many were told."""
    told = 0
    for pidfile in sorted(run_dir.glob("dns-*.pid")):
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGHUP)
            told += 1
        except (OSError, ValueError) as exc:
            log.error("cannot reload the DNS view of %s: %s", pidfile, exc)
    return told


def refresh(config: FilterConfig, reload: bool, resolve: Resolver | None = None) -> Refreshed:
    """Rewrite both runtime files from the index ``config`` names and, if ``reload``, tell the
    running views (``carine filter dns-refresh``, and after each list update)."""
    resolved = write_safesearch_hosts(config.run / SAFESEARCH_HOSTS, resolve or system_resolver)
    floor = config.filtering.national.pupil_categories
    circumvention = [c for c in floor if c in CIRCUMVENTION]
    with Index.open(config.index) as index:
        refused = write_refused_names(config.run / BLOCKED_SERVERS, index.domains(circumvention))
    return Refreshed(resolved, refused, reload_views(config.run) if reload else 0)
