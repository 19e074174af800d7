"""``ss`` (iproute2) as ``carine ready`` reads it: the PID that listens on a port."""

from __future__ import annotations

import os
import socket

import pytest

from appliance.apply.listeners import listener_pids
from tests.conftest import require_tool

pytestmark = pytest.mark.contract


def test_ss_names_the_listening_process() -> None:
    require_tool("ss")
    with socket.socket() as tcp, socket.socket(type=socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        assert os.getpid() in listener_pids(tcp.getsockname()[1])
        assert os.getpid() in listener_pids(udp.getsockname()[1], udp=True)
        assert os.getpid() not in listener_pids(udp.getsockname()[1])  # TCP asked: none
