"""The real hostapd judges the rendered access point configurations: the lycée's Linux access
point (enterprise + guest BSS) is accepted, broken ones are refused; the wired authenticator
the lab uses really starts on a veth in a throwaway namespace and obeys DISABLE and ENABLE."""

from __future__ import annotations

import os
import secrets
import signal
from pathlib import Path

import pytest

from appliance.lab.netns import wait_for
from appliance.run import run, spawn
from appliance.site import load_site
from network.wifi.check import check_hostapd
from network.wifi.ctrl import LocalControl, expect_ok, radio_enabled, stations
from network.wifi.hostapd import render_ap, render_wired
from tests.conftest import EXAMPLES, require_root, require_tool

pytestmark = pytest.mark.contract
SECRET = "contract-radius-secret"


class Fixed:
    def radius_secret(self, client: str) -> str:
        return SECRET

    def guest_passphrase(self, ssid: str) -> str:
        return "abcde-fghij-kmnpq-rstuv-wxyz2"


@pytest.fixture(scope="module")
def config() -> str:
    return render_ap(load_site(EXAMPLES / "site.yaml"), "ap-cdi", Fixed())


def test_hostapd_accepts_the_rendered_access_point(config: str) -> None:
    require_tool("hostapd")
    verdict = check_hostapd(config, (SECRET,))
    assert verdict.ok, verdict.output
    assert SECRET not in verdict.output


@pytest.mark.parametrize(("case", "old", "new"), [
    ("unknown key management", "wpa_key_mgmt=WPA-EAP WPA-EAP-SHA256", "wpa_key_mgmt=WEP"),
    ("guest network without its passphrase", "wpa_passphrase=", "# wpa_passphrase="),
    ("misspelt key", "rsn_pairwise=CCMP", "rsn_pairwse=CCMP"),
])
def test_hostapd_refuses_broken_configurations(config: str, case: str, old: str,
                                               new: str) -> None:
    require_tool("hostapd")
    assert old in config
    verdict = check_hostapd(config.replace(old, new), (SECRET,))
    assert not verdict.ok, case
    assert "errors found" in verdict.output or "Line" in verdict.output


def test_wired_authenticator_runs_and_obeys_its_control_interface(tmp_path: Path) -> None:
    require_root()
    require_tool("hostapd")
    require_tool("ip")
    ns = f"carine-t-{secrets.token_hex(3)}"
    ctrl = tmp_path / "ctrl"
    site = load_site(EXAMPLES / "site.yaml")
    conf = tmp_path / "hostapd.conf"
    conf.write_text(render_wired(site, "ap-cdi", Fixed(), "port0", ctrl))
    conf.chmod(0o600)
    run(["ip", "netns", "add", ns])
    pid = None
    try:
        run(["ip", "-n", ns, "link", "add", "port0", "type", "veth", "peer", "name", "peer0"])
        for link in ("port0", "peer0", "lo"):
            run(["ip", "-n", ns, "link", "set", link, "up"])
        pid = spawn(["ip", "netns", "exec", ns, "hostapd", str(conf)],
                    logfile=tmp_path / "hostapd.log")
        control = LocalControl(ctrl, "port0")
        wait_for("hostapd control socket", (ctrl / "port0").exists, timeout=10)
        assert control.request("PING").strip() == "PONG"
        assert radio_enabled(control) and stations(control) == {}
        expect_ok(control, "DISABLE")
        assert not radio_enabled(control)
        expect_ok(control, "ENABLE")
        assert radio_enabled(control)
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
        run(["ip", "netns", "delete", ns], check=False)
    log = (tmp_path / "hostapd.log").read_text()
    assert "AP-ENABLED" in log and "AP-DISABLED" in log
    assert SECRET not in log
