"""hostapd on a remote Linux access point, over SSH (paramiko) with its host key PINNED.

The site gives each access point's host key fingerprint. A key is written to the appliance's
known_hosts only after its fingerprint matched that pin; every session then runs with paramiko's
RejectPolicy against that file, so no other key is ever accepted (never AutoAddPolicy)."""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
import socket
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.errors import CarineError
from appliance.files import write_atomic

COMMAND = re.compile(r"^[A-Z][A-Z0-9_-]*( [0-9a-f:]{17})?$")


def fingerprint(key: paramiko.PKey) -> str:
    """The key's fingerprint as `ssh-keygen -lf` prints it: SHA256: and unpadded base64."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def client_key(folder: Path) -> paramiko.PKey:
    """The appliance's own key for the access points (ed25519, made once, 0600)."""
    path = folder / "id_ed25519"
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption())
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_atomic(path, data, mode=0o600)
    return paramiko.Ed25519Key.from_private_key_file(str(path))


def public_line(key: paramiko.PKey) -> str:
    """The line to put in the access point's authorized_keys."""
    return f"{key.get_name()} {key.get_base64()} carine-wifi"


class RemoteControl:
    """hostapd_cli on an access point, through one SSH connection."""

    def __init__(self, host: str, pin: str, user: str, key: paramiko.PKey, known_hosts: Path,
                 interface: str, ctrl_dir: str = "/run/hostapd", port: int = 22,
                 timeout: float = 10.0) -> None:
        self.host, self.pin, self.user, self.key = host, pin, user, key
        self.known_hosts, self.interface, self.ctrl_dir = known_hosts, interface, ctrl_dir
        self.port, self.timeout = port, timeout
        self._client: paramiko.SSHClient | None = None

    def _name(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    def _pin_known_host(self) -> None:
        """Make known_hosts hold this host's key, if and only if it matches the pin."""
        keys = paramiko.HostKeys()
        if self.known_hosts.exists():
            keys.load(str(self.known_hosts))
        name = self._name()
        held = keys.lookup(name)
        if held is not None and all(fingerprint(k) == self.pin for k in held.values()):
            return
        offered = self._offered_key()
        if fingerprint(offered) != self.pin:
            raise CarineError(
                f"{self.host} presented the SSH host key {fingerprint(offered)}, not the pinned "
                f"{self.pin}: refused", "if the access point was reinstalled, put its new "
                "fingerprint in the site file (ssh-keygen -lf on the access point)")
        if name in keys:
            del keys[name]  # a key pinned before: the site's pin has changed
        keys.add(name, offered.get_name(), offered)
        self.known_hosts.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = [f"{host} {kind} {key.get_base64()}\n"
                 for host in keys for kind, key in keys[host].items()]
        write_atomic(self.known_hosts, "".join(lines), mode=0o600)

    def _offered_key(self) -> paramiko.PKey:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError as exc:
            raise CarineError(f"cannot reach {self.host}:{self.port} over SSH: {exc}") from exc
        transport = paramiko.Transport(sock)
        try:
            transport.start_client(timeout=self.timeout)
            return transport.get_remote_server_key()
        except paramiko.SSHException as exc:
            raise CarineError(f"SSH handshake with {self.host} failed: {exc}") from exc
        finally:
            transport.close()

    def _connect(self) -> paramiko.SSHClient:
        if self._client is not None:
            return self._client
        self._pin_known_host()
        client = paramiko.SSHClient()
        client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(self.host, port=self.port, username=self.user, pkey=self.key,
                           timeout=self.timeout, allow_agent=False, look_for_keys=False)
        except (paramiko.SSHException, OSError) as exc:
            client.close()
            raise CarineError(f"SSH to {self.user}@{self.host} refused: {exc}",
                              "is the appliance's key (carine wifi ssh-key) in the access "
                              "point's authorized_keys, and its host key the pinned one?") from exc
        self._client = client
        return client

    def request(self, command: str) -> str:
        """Run one hostapd control command (``raw``) on the access point; its answer."""
        if not COMMAND.match(command):
            raise CarineError(f"refusing to send {command!r} to an access point")
        argv = ["hostapd_cli", "-p", self.ctrl_dir, "-i", self.interface, "raw", *command.split()]
        client = self._connect()
        try:
            _, stdout, stderr = client.exec_command(shlex.join(argv), timeout=self.timeout)
            answer = stdout.read().decode(errors="replace")
            status = stdout.channel.recv_exit_status()
        except (paramiko.SSHException, OSError) as exc:
            raise CarineError(f"{self.host}: {command} failed over SSH: {exc}") from exc
        if status != 0:
            detail = stderr.read().decode(errors="replace").strip()
            raise CarineError(f"{self.host}: hostapd_cli {command} exited {status}: {detail}")
        return answer

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
