"""The lab's own life: up is idempotent, recovers from a crashed daemon, down removes exactly
what up created (even from a half-built lab), status and exec work from the command line."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from appliance.lab import commands, netns
from appliance.lab.driver import LabDriver
from appliance.lab.state import LabState, Proc, alive, start_time
from appliance.lab.topology import HOST_LINK, LAB_DIR
from appliance.run import run, spawn
from tests.lab.conftest import SITE

pytestmark = pytest.mark.lab


def carine(*args: str):
    return run([sys.executable, "-m", "appliance.cli", *args], check=False, timeout=120)


def test_up_twice_leaves_the_lab_as_it_is(lab: LabDriver) -> None:
    before = [(p.name, p.node, p.pid) for p in lab.state.procs]
    commands.up(SITE)
    assert [(p.name, p.node, p.pid) for p in lab.state.procs] == before


def test_up_rebuilds_a_lab_whose_daemon_died(lab: LabDriver) -> None:
    squid = next(p for p in lab.state.procs if p.name == "squid")
    os.kill(squid.pid, signal.SIGKILL)
    netns.wait_for("squid to die", lambda: not alive(squid), timeout=5)
    assert not commands.healthy(lab.state)
    assert carine("lab", "status").returncode == 1
    commands.up(SITE)
    assert commands.healthy(lab.state)
    assert lab.curl("pedago-1", "http://www.example.org/after-crash").ok


def test_status_and_exec_from_the_command_line(lab: LabDriver) -> None:
    status = carine("lab", "status")
    assert status.returncode == 0, status.output()
    for word in ("appliance", "squid", "dnsmasq", "pedago-1", "udhcpc", "MiB", HOST_LINK):
        assert word in status.stdout
    shown = carine("lab", "exec", "pedago-1", "--", "ip", "-4", "-o", "addr", "show", "eth0")
    assert shown.returncode == 0 and str(lab.address("pedago-1")) in shown.stdout
    unknown = carine("lab", "exec", "nowhere", "--", "true")
    assert unknown.returncode == 1 and "no lab node 'nowhere'" in unknown.stderr


def _leftovers() -> list[str]:
    found = [ns for ns in netns.namespaces() if ns.startswith("carine-")]
    if netns.link_exists(HOST_LINK):
        found.append(HOST_LINK)
    found += [str(p) for p in Path("/etc/netns").glob("carine-*")] if Path("/etc/netns").exists() \
        else []
    if LAB_DIR.exists():
        found.append(str(LAB_DIR))
    return found


def test_down_removes_everything_up_created(lab: LabDriver) -> None:
    procs = lab.state.procs
    assert procs and all(alive(p) for p in procs)
    assert carine("lab", "down").returncode == 0
    assert not any(alive(p) for p in procs)
    assert _leftovers() == []
    assert carine("lab", "status").returncode == 3


def test_down_cleans_up_after_a_crash_half_way_through_up(lab_session) -> None:
    commands.down(quiet=True)
    # What a crash right after creating the first namespace leaves behind: the intent is on
    # disk, the namespace exists, nothing else does.
    state = LabState(LAB_DIR / "state.json", site=str(SITE))
    state.intend("namespaces", "carine-wan")
    netns.add_ns("carine-wan")
    commands.down(quiet=True)
    assert _leftovers() == []


def test_down_stops_what_runs_unrecorded_in_a_lab_namespace(lab_session, tmp_path: Path) -> None:
    commands.down(quiet=True)
    # A crash between starting a daemon and recording its PID: it runs in our namespace only.
    state = LabState(LAB_DIR / "state.json", site=str(SITE))
    state.intend("namespaces", "carine-wan")
    netns.add_ns("carine-wan")
    pid = spawn(["ip", "netns", "exec", "carine-wan", "sleep", "600"], logfile=tmp_path / "log")
    netns.wait_for("the unrecorded process in carine-wan", lambda: pid in netns.pids("carine-wan"))
    started = start_time(pid)
    assert started is not None
    sleeper = Proc("sleep", "wan", pid, started, [])
    try:
        commands.down(quiet=True)
        assert not alive(sleeper)
        assert _leftovers() == []
    finally:
        if alive(sleeper):  # the test's own process, by its PID
            os.kill(pid, signal.SIGKILL)


def test_the_ecole_example_comes_up_too(lab_session) -> None:
    # The small school: three zones, one of them (switches, access points) without DHCP.
    ecole = SITE.with_name("ecole.yaml")
    with commands._locked():
        state = commands.up(ecole)
        try:
            assert state.ready and commands.healthy(state)
            lab = LabDriver()
            assert lab.lease("classes-1")["ip"].startswith("10.30.0.")
            # No pool in mgmt: its device is set by hand, as a technician would.
            assert lab.lease("mgmt-1")["ip"] == "10.99.0.29"
            assert lab.lease("mgmt-1")["static"] == "yes"
            assert "exec classes-1 --" in commands.usage(state)
            page = lab.curl("classes-1", "http://www.example.org/")
            assert page.ok, page.output()
            assert not lab.curl("mgmt-1", "http://www.example.org/").ok  # internet: none
            assert not lab.probe("classes-1", "tcp", str(lab.address("direction-1")), 22).ok
            answer = lab.exec("mgmt-1", ["dig", "+short", "+time=2", "www.example.org"])
            assert answer.ok and answer.stdout.strip(), answer.output()  # the appliance's DNS
        finally:
            commands.down(quiet=True)
