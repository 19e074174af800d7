"""``carine ready``'s question "is the port this unit's?": a squatter's answer is no health."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.apply.listeners import held_by, unit_of
from appliance.apply.ready import check_once

pytestmark = pytest.mark.unit


def test_unit_of_reads_the_cgroup_v2_line(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42/cgroup").write_text("0::/system.slice/carine-portal.service\n")
    (tmp_path / "7").mkdir()
    (tmp_path / "7/cgroup").write_text("0::/user.slice/user-0.slice/session-3.scope\n")
    assert unit_of(42, tmp_path) == "carine-portal.service"
    assert unit_of(7, tmp_path) == "session-3.scope"
    assert unit_of(99, tmp_path) is None  # gone between ss and the read


def test_held_by_names_the_squatter() -> None:
    owners = {10: "carine-test-squatter.service", 11: None}
    ok, why = held_by("carine-portal.service", 8099, pids=lambda p, u: {10, 11},
                      owner=owners.get)
    assert not ok and "carine-test-squatter.service" in why and "outside systemd" in why
    assert held_by("carine-portal.service", 8099, pids=lambda p, u: set())[1] == \
        "no process listens"
    assert held_by("carine-portal.service", 8099, pids=lambda p, u: {10},
                   owner=lambda pid: "carine-portal.service") == (True, "")


def test_a_port_answered_by_another_program_is_not_ready() -> None:
    units: dict[str, dict[str, Any]] = {
        "carine-portal.service": {"kind": "simple", "health": {"kind": "tcp", "port": 8099}},
        "carine-exporter.service": {"kind": "simple", "health": {"kind": "tcp", "port": 9108}}}
    verdicts = check_once(
        units, active=lambda u: (True, "active"), health=lambda h: (True, "accepts"),
        holds=lambda unit, port, udp: (port == 9108, "" if port == 9108 else "held by x"))
    got = {v.unit: (v.ok, v.detail) for v in verdicts}
    assert got["carine-exporter.service"] == (True, "active, accepts")
    assert got["carine-portal.service"] == (False, "active, accepts, but held by x")
