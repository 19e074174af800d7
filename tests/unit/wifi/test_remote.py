"""Remote access points over SSH: a real paramiko SSH server on loopback stands for the access
point. The pinned key is accepted; any other key is refused, before and after a first pin."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import paramiko
import pytest

from appliance.errors import CarineError
from network.wifi.ctrl import expect_ok
from network.wifi.remote import RemoteControl, client_key, fingerprint

pytestmark = pytest.mark.unit


class AccessPointServer(paramiko.ServerInterface):
    """Accepts the appliance's key and answers hostapd_cli raw commands like hostapd would."""

    def __init__(self, allowed: paramiko.PKey, commands: list[str]) -> None:
        self.allowed, self.commands = allowed, commands

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == "carine" and key.asbytes() == self.allowed.asbytes()
        return paramiko.common.AUTH_SUCCESSFUL if ok else paramiko.common.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.common.OPEN_SUCCEEDED if kind == "session" else \
            paramiko.common.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_exec_request(self, channel: paramiko.Channel, command: bytes) -> bool:
        text = command.decode()
        self.commands.append(text)
        # paramiko confirms the exec after this returns: answer from a thread, once it has.
        threading.Thread(target=self._answer, args=(channel, text), daemon=True).start()
        return True

    @staticmethod
    def _answer(channel: paramiko.Channel, text: str) -> None:
        time.sleep(0.05)
        channel.sendall(b"OK\n" if text.endswith(("raw DISABLE", "raw ENABLE")) else b"PONG\n")
        channel.send_exit_status(0)
        channel.close()


class Server:
    """An SSH server on 127.0.0.1 with ``host_key``, serving connections in a thread."""

    def __init__(self, host_key: paramiko.PKey, allowed: paramiko.PKey) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.host_key, self.allowed = host_key, allowed
        self.commands: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(conn)
            transport.add_server_key(self.host_key)
            try:
                transport.start_server(server=AccessPointServer(self.allowed, self.commands))
            except (paramiko.SSHException, EOFError, OSError):
                continue

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def keys(tmp_path: Path):
    return client_key(tmp_path / "ssh"), paramiko.Ed25519Key.from_private_key_file(
        str(_keyfile(tmp_path, "host1"))), paramiko.Ed25519Key.from_private_key_file(
        str(_keyfile(tmp_path, "host2")))


def _keyfile(tmp_path: Path, name: str) -> Path:
    client_key(tmp_path / name)  # same generator: a fresh ed25519 key
    return tmp_path / name / "id_ed25519"


def control(server: Server, pin: str, key: paramiko.PKey, tmp_path: Path) -> RemoteControl:
    return RemoteControl("127.0.0.1", pin, "carine", key, tmp_path / "known_hosts", "wlan0",
                         port=server.port, timeout=5)


def test_pinned_key_is_accepted_and_commands_run(keys, tmp_path: Path) -> None:
    mine, host, _ = keys
    server = Server(host, mine)
    try:
        ctl = control(server, fingerprint(host), mine, tmp_path)
        expect_ok(ctl, "DISABLE")
        ctl.close()
    finally:
        server.close()
    assert server.commands == ["hostapd_cli -p /run/hostapd -i wlan0 raw DISABLE"]
    known = (tmp_path / "known_hosts").read_text()
    assert host.get_base64() in known
    assert (tmp_path / "known_hosts").stat().st_mode & 0o777 == 0o600


def test_unknown_host_key_is_refused(keys, tmp_path: Path) -> None:
    mine, host, impostor = keys
    server = Server(impostor, mine)
    try:
        ctl = control(server, fingerprint(host), mine, tmp_path)
        with pytest.raises(CarineError, match="not the pinned"):
            ctl.request("DISABLE")
    finally:
        server.close()
    assert server.commands == []
    assert not (tmp_path / "known_hosts").exists()


def test_a_changed_key_after_pinning_is_refused_by_reject_policy(keys, tmp_path: Path) -> None:
    mine, host, impostor = keys
    first = Server(host, mine)
    ctl = control(first, fingerprint(host), mine, tmp_path)
    ctl.request("PING")
    ctl.close()
    first.close()
    # Same address and port, another key, and known_hosts already holds the pinned one.
    second = Server(impostor, mine)
    try:
        known = (tmp_path / "known_hosts").read_text()
        (tmp_path / "known_hosts").write_text(
            known.replace(f"[127.0.0.1]:{first.port}", f"[127.0.0.1]:{second.port}"))
        ctl = control(second, fingerprint(host), mine, tmp_path)
        with pytest.raises(CarineError, match="refused"):
            ctl.request("PING")
    finally:
        second.close()
    assert second.commands == []


def test_only_plain_control_commands_are_sent(keys, tmp_path: Path) -> None:
    mine, host, _ = keys
    ctl = control(Server(host, mine), fingerprint(host), mine, tmp_path)
    with pytest.raises(CarineError, match="refusing"):
        ctl.request("DISABLE; reboot")


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    from appliance.run import run
    from tests.conftest import require_tool

    require_tool("ssh-keygen")
    key = client_key(tmp_path / "k")
    pub = tmp_path / "k.pub"
    pub.write_text(f"{key.get_name()} {key.get_base64()}\n")
    assert run(["ssh-keygen", "-lf", str(pub)]).stdout.split()[1] == fingerprint(key)
