"""The lab's supervisor decides a restart as systemd's Restart=on-failure does."""

from __future__ import annotations

import signal

import pytest

from appliance.lab.supervise import failed

pytestmark = pytest.mark.unit


def test_failure_is_what_systemd_calls_one() -> None:
    assert failed(1) and failed(-signal.SIGKILL) and failed(-signal.SIGSEGV)
    assert not failed(0)
    for clean in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        assert not failed(-clean)
