"""DNS lookups of the probes, asked of one given resolver (dnspython, asyncio, UDP): the
appliance's own and the site's first upstream, so that a failure tells which one is at fault."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.rdatatype

from monitoring.probes.config import Endpoint


class LookupFailed(Exception):
    """The name did not resolve to an IPv4 address; the message says why, for the results."""


@dataclass(frozen=True)
class Lookup:
    """The addresses a resolver gave for a name, and how long it took."""

    addresses: tuple[str, ...]
    seconds: float


def is_address(host: str) -> bool:
    try:
        ip_address(host)
    except ValueError:
        return False
    return True


async def lookup(name: str, server: Endpoint, timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> Lookup:
    """The A records of ``name`` according to ``server``; LookupFailed otherwise."""
    if is_address(name):
        return Lookup((name,), 0.0)
    query = dns.message.make_query(name, dns.rdatatype.A)
    start = clock()
    try:
        answer = await dns.asyncquery.udp(query, server.address, timeout=timeout,
                                          port=server.port)
    except dns.exception.Timeout as exc:
        raise LookupFailed(f"no answer from {server.address} within {timeout:g}s") from exc
    except (OSError, dns.exception.DNSException) as exc:
        raise LookupFailed(f"{server.address}: {exc}") from exc
    seconds = clock() - start
    rcode = answer.rcode()
    if rcode != dns.rcode.NOERROR:
        raise LookupFailed(f"{server.address} answered {dns.rcode.to_text(rcode)}")
    addresses = tuple(rd.address for rrset in answer.answer
                      if rrset.rdtype == dns.rdatatype.A for rd in rrset)
    if not addresses:
        raise LookupFailed(f"{server.address} knows no IPv4 address for {name}")
    return Lookup(addresses, seconds)
