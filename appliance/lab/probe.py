"""Tiny network probes for lab nodes: does a TCP connection open, does a UDP datagram come back.

``python -m appliance.lab.probe tcp|udp|ntp HOST PORT``: prints what answered, exit 0, or exit 1."""

from __future__ import annotations

import argparse
import socket
import sys


def tcp(host: str, port: int, timeout: float) -> str:
    with socket.create_connection((host, port), timeout=timeout) as conn:
        # The connection is the answer; a banner, if the service sends one, says who it is.
        conn.settimeout(min(timeout, 0.5))
        try:
            banner = conn.recv(1024).decode(errors="replace").strip()
        except TimeoutError:
            banner = ""
        return banner or f"connected to {host}:{port}"


def udp(host: str, port: int, timeout: float) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(b"ping", (host, port))
        data, _ = sock.recvfrom(2048)
        return data.decode(errors="replace").strip()


def ntp(host: str, port: int, timeout: float) -> str:
    """One SNTP client request (RFC 4330): the server's stratum and leap indicator."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(b"\x23" + bytes(47), (host, port))  # LI 0, version 4, mode 3 (client)
        data, _ = sock.recvfrom(512)
    if len(data) < 48:
        raise OSError(f"short NTP answer ({len(data)} bytes)")
    return f"ntp stratum={data[1]} leap={data[0] >> 6} mode={data[0] & 7}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("proto", choices=("tcp", "udp", "ntp"))
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    try:
        answer = {"tcp": tcp, "udp": udp, "ntp": ntp}[args.proto](args.host, args.port,
                                                                  args.timeout)
    except OSError as exc:
        print(f"no answer from {args.proto}/{args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
