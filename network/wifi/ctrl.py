"""hostapd's control interface: the UNIX datagram socket `<ctrl_dir>/<interface>` (what
hostapd_cli talks to), locally; remotely, hostapd_cli run over SSH (``network.wifi.remote``)."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from appliance.errors import CarineError


class Control(Protocol):
    """One access point's hostapd, however it is reached."""

    def request(self, command: str) -> str: ...


class LocalControl:
    """hostapd on this machine (or in a namespace sharing its file system): its socket file."""

    def __init__(self, ctrl_dir: Path, interface: str, timeout: float = 3.0) -> None:
        self.path = ctrl_dir / interface
        self.timeout = timeout

    def request(self, command: str) -> str:
        with _client_socket(self.timeout) as sock:
            try:
                sock.connect(str(self.path))
                sock.send(command.encode())
                reply = sock.recv(65536).decode(errors="replace")
            except (OSError, TimeoutError) as exc:
                raise CarineError(f"hostapd does not answer on {self.path}: {exc}",
                                  "is hostapd running with this ctrl_interface?") from exc
        return reply


@contextlib.contextmanager
def _client_socket(timeout: float) -> Iterator[socket.socket]:
    # hostapd answers to the sender's address: the client needs a bound path of its own.
    folder = tempfile.mkdtemp(prefix="carine-hapd-")
    path = Path(folder) / f"c{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(str(path))
        sock.settimeout(timeout)
        yield sock
    finally:
        sock.close()
        path.unlink(missing_ok=True)
        Path(folder).rmdir()


def expect_ok(control: Control, command: str) -> None:
    """Send ``command`` (ENABLE, DISABLE) and insist on OK."""
    reply = control.request(command).strip()
    if reply != "OK":
        raise CarineError(f"hostapd refused {command}: {reply or '(no answer)'}")


def stations(control: Control) -> dict[str, str]:
    """Stations hostapd knows (MAC -> flags such as ``[AUTH][ASSOC][AUTHORIZED]``)."""
    out: dict[str, str] = {}
    reply = control.request("STA-FIRST")
    while reply.strip() and not reply.startswith("FAIL"):
        lines = reply.splitlines()
        mac = lines[0].strip()
        if mac in out:  # never loop on a confused answer
            break
        out[mac] = next((line[6:] for line in lines if line.startswith("flags=")), "")
        reply = control.request(f"STA-NEXT {mac}")
    return out


def connected(control: Control) -> int:
    """How many devices are connected: stations past authentication (AUTHORIZED)."""
    return sum("[AUTHORIZED]" in flags for flags in stations(control).values())


def radio_enabled(control: Control) -> bool:
    """Whether hostapd's interface is up (STATUS says state=ENABLED)."""
    status = dict(line.split("=", 1) for line in control.request("STATUS").splitlines()
                  if "=" in line)
    return status.get("state") == "ENABLED"
