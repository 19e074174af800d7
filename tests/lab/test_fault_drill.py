"""The fault drill (issue 12 point 2): every daemon the services declare is killed with SIGKILL
in turn, under light pupil traffic. Shown for each: ``carine_daemon_up`` reads 0 at the next
scrape, the alert rule fires on that (promtool, the real rule file), the lab's supervisor brings
the daemon back as ``Restart=on-failure`` would; over the whole drill, with the filtering
helpers and their index gone for a while too, no pupil request to a blocked site is served and
every request Squid answered is in the journal. The figures are printed."""

from __future__ import annotations

import base64
import os
import re
import signal
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.lab import runner
from appliance.lab.driver import LabDriver
from appliance.lab.state import start_time
from appliance.lab.topology import lab_layout, plan
from appliance.render.units import Unit, pid_file
from appliance.run import run
from appliance.site import load_site
from monitoring.bodies import MAX_AGE
from tests.conftest import require_tool
from tests.daemon_alerts import write_test
from tests.lab.conftest import SITE
from tests.lab.test_journal import records

pytestmark = pytest.mark.lab

PUPIL = "pedago-1"
GAMES = "poki.com"  # blocked for pupils (UT1 games)
PASSWORD = "exemple-a-changer"  # examples/site.yaml's documented metrics password
UAI = "0691234X"


@dataclass
class Traffic:
    """A pupil's light browsing in the background: one allowed and one blocked request every
    ~0.3 s, each to a name of its own so that each is one journal record."""

    lab: LabDriver
    sent: list[tuple[str, bool, str]] = field(default_factory=list)  # host, blocked?, code
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            for host, blocked in ((f"drill-{n}.education.gouv.fr", False),
                                  (f"drill-{n}.{GAMES}", True)):
                got = self.lab.exec(PUPIL, ["curl", "-s", "-m", "3", "-o", "/dev/null", "-w",
                                            "%{http_code}", f"http://{host}/"], timeout=10)
                self.sent.append((host, blocked, got.stdout.strip() or "000"))
            time.sleep(0.3)

    @property
    def unfiltered(self) -> list[str]:
        return [h for h, blocked, code in self.sent if blocked and code.startswith("2")]

    @property
    def answered(self) -> set[str]:
        """What Squid answered (any HTTP status): what its log, hence the journal, must hold."""
        return {h for h, _, code in self.sent if code != "000"}


def scrape(url: str) -> dict[str, float] | None:
    """``carine_daemon_up`` by daemon, or None when the exporter does not answer."""
    token = base64.b64encode(f"prometheus:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:
            body = answer.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    return {m[0]: float(m[1]) for m in re.findall(
        r'^carine_daemon_up\{daemon="([^"]+)",uai="[^"]+"\} (\S+)$', body, re.MULTILINE)}


def main_pid(name: str) -> int | None:
    try:
        pid = int(pid_file(lab_layout().run, name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if start_time(pid) is not None else None


def wait(what: str, ready, timeout: float = 60.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ready()
        if found:
            return found
        time.sleep(step)
    raise AssertionError(f"{what} within {timeout:.0f} s")


@dataclass
class Drill:
    name: str
    detect: float  # kill -> first scrape that says so
    recover: float  # supervisor released -> a new main PID that passes the health check


def kill_and_watch(lab: LabDriver, unit: Unit, url: str) -> Drill:
    """SIGKILL the daemon; its supervisor is held (SIGSTOP) until a scrape has shown the daemon
    down, since the exporter makes its answers ahead (every 3 s under frequent scrapes) and a
    daemon back within that would not be seen; the restart is then timed from the release."""
    old = wait(f"{unit.name} running", lambda: main_pid(unit.name), timeout=30)
    (supervisor,) = [p.pid for p in lab.state.procs
                     if p.name == unit.name and p.node == "appliance"]
    os.kill(supervisor, signal.SIGSTOP)
    try:
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)
        if unit.name == "exporter":  # it cannot report itself: its scrape fails (up == 0)
            wait("the exporter's scrape to fail", lambda: scrape(url) is None, timeout=5,
                 step=0.01)
        else:
            wait(f"carine_daemon_up{{daemon={unit.name!r}}} == 0",
                 lambda: (s := scrape(url)) is not None and s.get(unit.name) == 0.0,
                 timeout=MAX_AGE + 2, step=0.05)
        detected = time.monotonic()
    finally:
        os.kill(supervisor, signal.SIGCONT)
    released = time.monotonic()
    wait(f"{unit.name} back under the supervisor",
         lambda: (pid := main_pid(unit.name)) is not None and pid != old and runner.healthy(unit),
         timeout=60, step=0.1)
    recovered = time.monotonic()
    if unit.name == "exporter":
        wait("the exporter answering again", lambda: scrape(url) is not None, timeout=30)
    return Drill(unit.name, detected - killed, recovered - released)


def helpers() -> list[int]:
    """The filtering helpers Squid runs (its children), by PID."""
    squid = main_pid("squid")
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == squid and b"carine-filter-helper" in cmdline:
            out.append(int(stat.parent.name))
    return out


@pytest.fixture
def traffic(lab: LabDriver) -> Iterator[Traffic]:
    load = Traffic(lab)
    thread = threading.Thread(target=load.run, daemon=True)
    thread.start()
    yield load
    load.stop.set()
    thread.join(timeout=20)


def promtool_fires(tmp_path: Path, drills: list[Drill]) -> str:
    """The real rule file judged on the series the drill observed (tests/daemon_alerts.py)."""
    path = write_test(tmp_path / "drill.test.yml", [d.name for d in drills], UAI)
    result = run([require_tool("promtool"), "test", "rules", str(path)], check=False, timeout=120)
    assert result.ok and "SUCCESS" in result.output(), result.output()
    return result.output()


def test_fault_drill_every_declared_daemon(lab: LabDriver, traffic: Traffic,
                                           tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(seconds=2)
    url = f"http://{lab.state.info['host']['appliance']}:9108/metrics"
    before = wait("a first scrape", lambda: scrape(url), timeout=20)
    units = {u.name: u for u in runner.declared(plan(load_site(SITE))) if isinstance(u, Unit)}
    watched = sorted(before)
    assert set(watched) == {n for n, u in units.items() if u.kind == "simple"}
    running = [n for n in watched if main_pid(n) is not None]
    assert all(before[n] == 1.0 for n in running), before
    wait("some traffic", lambda: len(traffic.answered) >= 4, timeout=30)

    drills = [kill_and_watch(lab, units[name], url) for name in running]
    wait("every daemon seen up again", lambda: (s := scrape(url)) is not None
         and all(s.get(n) == 1.0 for n in running), timeout=30, step=0.5)

    # The helpers and their index gone: Squid must refuse rather than let anything through.
    index = lab_layout().state / "filtering/index.cidx"
    aside = index.with_name(index.name + ".drill")
    sent_before = len(traffic.sent)
    index.rename(aside)
    try:
        for pid in helpers():
            os.kill(pid, signal.SIGKILL)
        wait("pupil requests while the index is gone",
             lambda: len(traffic.sent) >= sent_before + 6, timeout=60)
    finally:
        aside.rename(index)
    for pid in helpers():  # helpers started without an index: replace them by working ones
        os.kill(pid, signal.SIGKILL)
    squid = units["squid"]
    wait("Squid filtering again", lambda: main_pid("squid") and runner.healthy(squid)
         and lab.exec(PUPIL, ["curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}",
                              "http://after-drill.education.gouv.fr/"]).stdout == "200",
         timeout=60, step=0.5)
    time.sleep(1)
    traffic.stop.set()
    time.sleep(3.5)  # the last requests in flight
    answered = traffic.answered
    pupil = str(lab.address(PUPIL))

    def journaled() -> set[str]:
        return {r["host"] for r in records("navigation", start) if r.get("ip") == pupil}

    deadline = time.monotonic() + 30
    while not answered <= journaled() and time.monotonic() < deadline:
        time.sleep(1)
    recorded = journaled() & {h for h, _, _ in traffic.sent}
    lost = sorted(answered - recorded)
    output = promtool_fires(tmp_path, drills)

    print(f"\nfault drill: {len(drills)} daemons killed with SIGKILL in turn "
          f"(+ the filtering helpers, with their index gone)")
    print(f"  {'daemon':16} {'detect s':>9} {'recover s':>10}")
    for d in drills:
        print(f"  {d.name:16} {d.detect:9.2f} {d.recover:10.2f}")
    print(f"  time to detect: median {statistics.median(d.detect for d in drills):.2f} s, "
          f"max {max(d.detect for d in drills):.2f} s (the first answer made after the kill)")
    recover = [d.recover for d in drills]
    print(f"  time to recover (RestartSec 2 s + start + health): median "
          f"{statistics.median(recover):.2f} s, max {max(recover):.2f} s")
    print(f"  pupil requests sent {len(traffic.sent)}, answered by Squid {len(answered)}, "
          f"journaled {len(recorded & answered)} (+{len(recorded - answered)} whose answer "
          f"curl did not see), lost {len(lost)}")
    print(f"  unfiltered requests to a blocked site: {len(traffic.unfiltered)}")
    print("  promtool: CarineDaemonDown fires for each daemon left at 0; "
          + ("SUCCESS" if "SUCCESS" in output else output))
    assert traffic.unfiltered == []
    assert not lost, f"answered by Squid but not journaled: {lost[:10]}"
    assert all(d.detect <= MAX_AGE + 1 for d in drills)
