"""One fetch of a page, direct (own lookup, TCP, TLS, GET) or through the explicit proxy (CONNECT
then TLS for https, absolute-form GET for http), timed stage by stage; the caller bounds it."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable

from monitoring.probes import httpwire
from monitoring.probes.config import Endpoint
from monitoring.probes.dnsprobe import LookupFailed, lookup
from monitoring.probes.outcome import Phases
from monitoring.probes.tlscheck import describe

Clock = Callable[[], float]


def _oserror(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return exc.strerror or str(exc) or type(exc).__name__


async def _open(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(host, port, limit=httpwire.MAX_HEAD)


async def _tunnel(url: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """CONNECT through the proxy; ConnectionError with the proxy's answer when refused."""
    writer.write(httpwire.connect(url))
    await writer.drain()
    try:
        head = httpwire.parse_head(await reader.readuntil(b"\r\n\r\n"))
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise ConnectionError(f"no usable answer from the proxy to CONNECT ({exc})") from exc
    if head is None or head.status != 200:
        status = head.status if head else "?"
        raise ConnectionError(f"the proxy answered {status} to CONNECT")


async def fetch(url: str, ph: Phases, *, proxy: Endpoint | None, resolver: Endpoint,
                ctx: ssl.SSLContext, dns_timeout: float, clock: Clock = time.monotonic) -> None:
    """Fetch ``url`` and fill ``ph``; a failure is recorded in ``ph``, never raised."""
    host, port = httpwire.authority(url)
    https = url.startswith("https:")
    ph.stage = "tcp"
    if proxy is None:
        try:
            ph.address = (await lookup(host, resolver, dns_timeout)).addresses[0]
        except LookupFailed as exc:
            ph.fail(f"DNS: {exc}")
            return
        address, dest = ph.address, port
    else:
        address, dest = proxy.address, proxy.port
    began = clock()
    try:
        reader, writer = await _open(address, dest)
    except OSError as exc:
        ph.fail(f"{address}:{dest}: {_oserror(exc)}")
        return
    try:
        if proxy is not None and https:
            await _tunnel(url, reader, writer)
        ph.tcp = clock() - began
        if https:
            ph.stage = "tls"
            began = clock()
            await writer.start_tls(ctx, server_hostname=host)
            ph.tls = clock() - began
            tls = writer.get_extra_info("ssl_object")
            ph.cert_der = tls.getpeercert(binary_form=True) if tls is not None else None
        ph.stage = "http"
        writer.write(httpwire.request(url, absolute=proxy is not None and not https))
        await writer.drain()
        await _answer(reader, ph, clock)
    except ssl.SSLCertVerificationError as exc:
        ph.verify_code = exc.verify_code
        ph.fail(describe(exc))
    except ssl.SSLError as exc:
        ph.fail(describe(exc))
    except OSError as exc:  # ConnectionError included: resets, a refused CONNECT
        ph.fail(_oserror(exc))
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):  # incl. TimeoutError
            await asyncio.wait_for(writer.wait_closed(), 1.0)


async def _answer(reader: asyncio.StreamReader, ph: Phases, clock: Clock) -> None:
    buf = b""
    head = None
    while True:
        chunk = await reader.read(65536)
        if chunk and ph.first_byte is None:
            ph.first_byte = clock() - ph.start
        buf += chunk
        try:
            head = head or httpwire.parse_head(buf)
        except ValueError as exc:
            ph.fail(str(exc))
            return
        if not chunk:
            break
        if head is not None:
            body = buf[head.body_start:]
            if httpwire.body_complete(head, body) or len(body) >= httpwire.MAX_BODY:
                break
    if head is None:
        ph.fail("the connection closed before an answer")
        return
    ph.status = head.status
    ph.body = httpwire.payload(head, buf[head.body_start:head.body_start + httpwire.MAX_BODY])
    ph.total = clock() - ph.start


async def peer_certificate(url: str, *, address: str | None, proxy: Endpoint | None,
                           ctx: ssl.SSLContext) -> bytes | None:
    """The certificate the server presents, without judging it (to say why it was refused)."""
    host, port = httpwire.authority(url)
    target = (proxy.address, proxy.port) if proxy is not None else (address or host, port)
    reader, writer = await _open(*target)
    try:
        if proxy is not None:
            await _tunnel(url, reader, writer)
        await writer.start_tls(ctx, server_hostname=host)
        tls = writer.get_extra_info("ssl_object")
        return tls.getpeercert(binary_form=True) if tls is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):  # incl. TimeoutError
            await asyncio.wait_for(writer.wait_closed(), 1.0)
