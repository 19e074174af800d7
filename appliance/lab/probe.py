"""Tiny network probes for lab nodes: does a TCP connection open, does a UDP datagram come back.

``python -m appliance.lab.probe tcp|udp HOST PORT``: prints what answered, exit 0, or exit 1."""

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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("proto", choices=("tcp", "udp"))
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--timeout", type=float, default=2.0)
    args = p.parse_args(argv)
    try:
        answer = (tcp if args.proto == "tcp" else udp)(args.host, args.port, args.timeout)
    except OSError as exc:
        print(f"no answer from {args.proto}/{args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(answer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
