"""The metrics endpoint in the lab: reachable from the managing zone (and the host link) with
the password only, never from the pupils; the exposition passes promtool's checks."""

from __future__ import annotations

import base64
import shutil
import urllib.error
import urllib.request

import pytest

from appliance.lab.driver import LabDriver
from appliance.run import run

pytestmark = pytest.mark.lab

PASSWORD = "exemple-a-changer"  # examples/site.yaml's documented example password


def scrape(url: str, user: str = "prometheus", password: str = PASSWORD) -> tuple[int, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def test_metrics_from_the_host_link_with_the_password(lab: LabDriver) -> None:
    url = f"http://{lab.state.info['host']['appliance']}:9108/metrics"
    status, body = scrape(url)
    assert status == 200
    assert 'carine_build_info{uai="0691234X"' in body
    assert 'carine_daemon_up{daemon="squid",uai="0691234X"} 1.0' in body
    assert 'carine_filter_lists_domains{uai="0691234X"}' in body
    assert "carine_filter_decisions_total" in body
    assert scrape(url, password="wrong password")[0] == 401
    assert scrape(url, user="root")[0] == 401


def test_pupils_cannot_reach_the_metrics(lab: LabDriver) -> None:
    assert not lab.probe("pedago-1", "tcp", "10.30.0.1", 9108).ok
    assert lab.probe("mgmt-1", "tcp", "10.99.0.1", 9108).ok


def test_the_exposition_passes_promtool(lab: LabDriver, tmp_path) -> None:
    if shutil.which("promtool") is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("promtool is missing (Debian package prometheus)")
        pytest.skip("promtool is missing (Debian package prometheus)")
    status, body = scrape(f"http://{lab.state.info['host']['appliance']}:9108/metrics")
    assert status == 200
    result = run(["promtool", "check", "metrics"], input_text=body, check=False)
    assert result.ok, result.output()
