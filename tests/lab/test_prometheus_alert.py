"""The académie's side, for real: a Prometheus server (Debian's) scrapes the lab appliance with
CARINE's rules; when the simulated ENT is cut off, CarineServiceUnreachable fires."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from appliance.lab import netns
from appliance.lab.driver import LabDriver
from appliance.lab.state import Proc, alive, start_time, stop_all
from appliance.lab.topology import WEB_ADDRESS
from appliance.run import spawn

pytestmark = pytest.mark.lab

RULES = Path(__file__).resolve().parents[2] / "monitoring" / "rules" / "carine.rules.yml"
CUT = "carine-labcut"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _api(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return json.loads(answer.read())


@pytest.fixture
def prometheus(lab: LabDriver, tmp_path: Path):
    binary = shutil.which("prometheus")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("prometheus is missing (Debian package prometheus)")
        pytest.skip("prometheus is missing (Debian package prometheus)")
    # The rules as the académie deploys them, with the 5-minute hold of the one alert under
    # test shortened so that the test takes seconds: the expression is what is being tested.
    rules = RULES.read_text(encoding="utf-8")
    rules = re.sub(r"(- alert: CarineServiceUnreachable\n(?:.*\n)*?\s+for: )5m", r"\g<1>5s",
                   rules, count=1)
    (tmp_path / "rules.yml").write_text(rules, encoding="utf-8")
    secret = tmp_path / "password"
    secret.write_text("exemple-a-changer", encoding="utf-8")
    secret.chmod(0o600)
    appliance = lab.state.info["host"]["appliance"]
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: [{tmp_path / 'rules.yml'}]\n"
        "scrape_configs:\n"
        "  - job_name: carine\n"
        f"    basic_auth: {{username: prometheus, password_file: {secret}}}\n"
        f"    static_configs: [{{targets: ['{appliance}:9108']}}]\n", encoding="utf-8")
    port = _free_port()
    argv = [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"]
    pid = spawn(argv, logfile=tmp_path / "prometheus.log")
    proc = Proc("prometheus", "host", pid, start_time(pid) or 0, argv)
    try:
        netns.wait_for("Prometheus", lambda: _ready(port), timeout=30)
        yield port
    finally:
        stop_all([proc])
        assert not alive(proc)


def _ready(port: int) -> bool:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1).close()
    except OSError:
        return False
    return True


def _firing(port: int, name: str) -> list[dict[str, Any]]:
    alerts = _api(port, "/api/v1/alerts")["data"]["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_the_ent_cut_off_fires_the_alert_in_prometheus(lab: LabDriver, prometheus: int) -> None:
    def scraped() -> bool:
        up = _api(prometheus, "/api/v1/query?query=up")["data"]["result"]
        return bool(up) and up[0]["value"][1] == "1"

    netns.wait_for("the appliance scraped", scraped, timeout=30)
    assert not _firing(prometheus, "CarineServiceUnreachable")
    lab.exec("wan", ["nft", "add", "table", "inet", CUT])
    try:
        lab.exec("wan", ["nft", "add", "chain", "inet", CUT, "input",
                         "{ type filter hook input priority -10 ; }"])
        lab.exec("wan", ["nft", "add", "rule", "inet", CUT, "input", "ip", "daddr",
                         str(WEB_ADDRESS), "tcp", "dport", "{ 80, 443 }", "reject", "with",
                         "tcp", "reset"])
        (pid,) = [p.pid for p in lab.state.procs if p.name == "prober"]
        os.kill(pid, signal.SIGUSR1)  # probe now rather than at the next interval
        netns.wait_for("CarineServiceUnreachable firing",
                       lambda: any(a["labels"]["service"] == "ent"
                                   for a in _firing(prometheus, "CarineServiceUnreachable")),
                       timeout=90)
        alert = next(a for a in _firing(prometheus, "CarineServiceUnreachable")
                     if a["labels"]["service"] == "ent")
        assert alert["labels"]["uai"] == "0691234X"
        assert "injoignable" in alert["annotations"]["summary"]
        assert not _firing(prometheus, "CarineUplinkDown")  # the uplink is fine
    finally:
        lab.exec("wan", ["nft", "delete", "table", "inet", CUT])
