"""Ingesters: Squid's access log (our logformat) followed across restarts and rotation,
conntrack lines to NAT records, and forwarding to a TLS syslog collector (RFC 5425 framing)."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.clock import FixedClock
from appliance.journal import Journal, conntrack, squidlog
from appliance.journal.follow import follow_once
from appliance.journal.forward import Forwarder
from appliance.journal.query import visited
from appliance.journal.verify import verify
from appliance.tls import issue, key_pem, pem, write_private

pytestmark = pytest.mark.unit

LINE = ("{t}.250 10.30.0.{c} 02:00:00:00:00:0{c} {user} TCP_TUNNEL/200 CONNECT {host}:443 "
        "{host} 198.18.0.10 5120 {cat} {decision} eleve -\n")


def _line(t: int, c: int, host: str, user: str = "-", cat: str = "-",
          decision: str = "allow") -> str:
    return LINE.format(t=t, c=c, host=host, user=user, cat=cat, decision=decision)


def test_squid_line_keeps_the_host_not_the_path() -> None:
    row = squidlog.parse("1773136800.125 10.30.0.5 - jdupont TCP_MISS/200 GET "
                         "http://www.Example.org/private/path?q=1 - 198.18.0.10 99 - allow "
                         "enseignant -")
    assert row is not None
    at, body, index = row
    assert at == 1773136800125000
    assert '"host":"www.example.org"' in body and "private" not in body
    assert index == ("10.30.0.5", "jdupont", "org.example.www.", None, None)
    assert squidlog.parse("garbage line") is None


def test_follower_resumes_and_survives_rotation(tmp_path: Path) -> None:
    log, state, root = tmp_path / "access.log", tmp_path / "pos.json", tmp_path / "j"
    t = int(datetime(2026, 3, 10, 9, tzinfo=UTC).timestamp())
    journal = Journal.open(root)

    def consume(lines: list[str]) -> None:
        journal.append_micros("navigation", squidlog.parse_lines(lines)[0])

    log.write_text(_line(t, 1, "a.fr") + _line(t, 2, "b.fr") + "1773136800.1 10.30")
    assert follow_once(log, state, consume) == 2  # the half-written line waits
    with log.open("a") as out:
        out.write(".0.3 - - TCP_MISS/200 GET http://c.fr/ - 198.18.0.10 1 - allow eleve -\n")
        out.write(_line(t, 4, "d.fr"))
    log.rename(tmp_path / "access.log.1")  # logrotate
    log.write_text(_line(t, 5, "e.fr"))
    assert follow_once(log, state, consume) == 3  # the end of the old file, then the new one
    assert follow_once(log, state, consume) == 0  # nothing twice
    journal.close()
    hosts = {h: visited(root, h, datetime(2026, 3, 10).date()) for h in
             ("a.fr", "b.fr", "c.fr", "d.fr", "e.fr")}
    assert all(len(rows) == 1 for rows in hosts.values()), hosts
    assert verify(root).ok


def test_conntrack_lines_become_nat_records() -> None:
    listed = ("ipv4     2 tcp      6 431999 ESTABLISHED src=10.30.0.12 dst=198.18.0.10 "
              "sport=40000 dport=443 src=198.18.0.10 dst=203.0.113.10 sport=443 dport=61000 "
              "[ASSURED] mark=0 use=1 id=3735928559")
    local = ("ipv4     2 tcp      6 431999 ESTABLISHED src=10.30.0.12 dst=10.30.0.1 "
             "sport=40000 dport=3128 src=10.30.0.1 dst=10.30.0.12 sport=3128 dport=40000 id=7")
    event = ("[1773136800.000123]\t    [NEW] udp      17 30 src=10.30.0.9 dst=198.18.0.53 "
             "sport=5353 dport=53 [UNREPLIED] src=198.18.0.53 dst=203.0.113.10 sport=53 "
             "dport=5353 id=9")
    poller = conntrack.NatPoller()
    rows = poller.new_rows([listed, local, event], now=42)
    assert [r[2] for r in rows] == [("10.30.0.12", None, None, "203.0.113.10", 61000),
                                    ("10.30.0.9", None, None, "203.0.113.10", 5353)]
    assert rows[0][0] == 42 and rows[1][0] == 1773136800000123
    assert '"dst":"198.18.0.10"' in rows[0][1] and '"proto":"tcp"' in rows[0][1]
    assert poller.new_rows([listed, event], now=43) == []  # seen already
    assert poller.new_rows([listed], now=44) == []
    assert len(poller.new_rows([listed, event], now=45)) == 1  # gone, then back: a new one


def test_forwarding_over_tls_syslog(tmp_path: Path) -> None:
    ca, ca_key = issue("carine-test-ca", [], is_ca=True)
    cert, key = issue("collector.test", ["collector.test", "localhost"], (ca, ca_key))
    (tmp_path / "ca.pem").write_bytes(pem(ca))
    write_private(tmp_path / "server.pem", key_pem(key) + pem(cert))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "server.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    received = bytearray()

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            while chunk := tls.recv(65536):
                received.extend(chunk)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    root = tmp_path / "j"
    clock = FixedClock(datetime(2026, 3, 10, 9, tzinfo=UTC))
    with Journal.open(root, clock=clock) as journal:
        journal.append("auth", {"outcome": "failure", "login": "jdupont", "ip": "10.30.0.5",
                                "reason": "bad-password"})
        journal.append("navigation", {"ip": "10.30.0.5", "host": "x.fr"})
    forwarder = Forwarder(root, tmp_path / "state", {
        "host": "localhost", "port": port, "ca_file": str(tmp_path / "ca.pem"),
        "kinds": ["auth"]}, "test")
    # The auth record, and the head anchors of both open days (auth, navigation).
    assert forwarder.forward_once(clock.now()) == 3
    assert forwarder.forward_once(clock.now()) == 0  # positions saved
    with Journal.open(root, clock=clock) as journal:
        journal.append("navigation", {"ip": "10.30.0.5", "host": "y.fr"})
    assert forwarder.forward_once(clock.now()) == 1  # the new navigation head only
    forwarder.close()
    thread.join(5)
    listener.close()
    # RFC 5425: "LEN SP MSG" where LEN counts the octets of MSG.
    messages, rest = [], bytes(received)
    while rest:
        length, _, rest = rest.partition(b" ")
        messages.append(rest[:int(length)].decode())
        rest = rest[int(length):]
    # Four: the last frames arrive because the forwarder closes TLS with a close_notify.
    assert len(messages) == 4 and all(m.startswith("<110>1 ") for m in messages)
    [record] = [m for m in messages if " carine-journal - auth - auth/" in m]
    assert '"reason":"bad-password"' in record
    assert not any("x.fr" in m or "y.fr" in m for m in messages)  # navigation: heads only
    heads = [m for m in messages if " carine-journal - head - " in m]
    assert sorted(h.split(" - head - ")[1].split()[:2] for h in heads) == [
        ["auth/2026-03-10", "1"], ["navigation/2026-03-10", "1"],
        ["navigation/2026-03-10", "2"]]


def test_forwarding_refuses_an_unknown_collector(tmp_path: Path) -> None:
    other, _other_key = issue("someone-else", [], is_ca=True)
    (tmp_path / "ca.pem").write_bytes(pem(other))
    cert, key = issue("collector.test", ["localhost"])
    write_private(tmp_path / "server.pem", key_pem(key) + pem(cert))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "server.pem")
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            server_ctx.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    root = tmp_path / "j"
    with Journal.open(root) as journal:
        journal.append("auth", {"outcome": "success", "login": "a"})
    forwarder = Forwarder(root, tmp_path / "state", {
        "host": "localhost", "port": listener.getsockname()[1],
        "ca_file": str(tmp_path / "ca.pem"), "kinds": ["auth"]}, "test")
    with pytest.raises(ssl.SSLCertVerificationError):
        forwarder.forward_once()
    listener.close()


def test_squid_fast_encoding_is_the_canonical_one() -> None:
    from appliance.journal.records import canonical

    row = squidlog.parse(_line(1773136800, 3, "Ünïcode.example", user="élève", cat="adult",
                               decision="block"))
    assert row is not None
    assert row[1] == canonical(json.loads(row[1]))
