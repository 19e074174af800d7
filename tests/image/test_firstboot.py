"""First boot in QEMU (TCG, OVMF): a bad site file on the CARINE key is shown with every problem as
`carine validate` prints it, and nothing is applied; a valid one is applied, no unit fails but the
list update (no internet here), and the exporter's /metrics answers through a port forwarded from
127.0.0.1. Each step's time is printed."""

from __future__ import annotations

import base64
import re
import time
import urllib.request
from pathlib import Path

import pytest

from appliance.run import run
from tests.conftest import EXAMPLES, REPO, require_tool
from tests.image.conftest import step
from tests.image.qemu import Guest, site_key

pytestmark = pytest.mark.image

BOOT_TIMEOUT = 1500.0  # TCG on a shared 2-core machine (a first apply there takes minutes)
EXPORTER = 9108
METRICS_PASSWORD = "exemple-a-changer"  # examples/ecole.yaml's, documented there


@pytest.fixture
def qemu_tools() -> None:
    for tool in ("qemu-system-x86_64", "qemu-img", "mkfs.vfat", "mcopy"):
        require_tool(tool)


def test_bad_site_is_shown_as_validate_prints_it(image: Path, qemu_tools: None,
                                                 tmp_path: Path) -> None:
    bad = (EXAMPLES / "ecole.yaml").read_text(encoding="utf-8").replace(
        "subnet: 10.30.0.0/24", "subnet: 10.30.0.0/33")
    (tmp_path / "bad.yaml").write_text(bad, encoding="utf-8")
    said = run([str(REPO / ".venv/bin/carine"), "validate", str(tmp_path / "bad.yaml")],
               check=False)
    assert said.returncode != 0
    guest = Guest(tmp_path, image, key=site_key(tmp_path, bad))
    started = time.monotonic()
    guest.start()
    try:
        guest.wait_for(r"est refusé", BOOT_TIMEOUT)
        step("first boot to the refusal screen", started)
        guest.wait_for(r"attend un fichier corrigé", 60)
        log = guest.log().replace("\r", "")
        problems = [line.strip() for line in (said.stdout + said.stderr).splitlines()
                    if line.strip()]
        for line in problems:
            # The scratch copy's path differs from the host's: compare what follows it.
            assert line.split("bad.yaml")[-1].split(".yaml")[-1] in log
        assert "ready in" not in log
    finally:
        guest.stop()


@pytest.mark.xfail(strict=True, reason=(
    "the appliance does not configure its own links yet: nothing renders the zones' VLANs on the "
    "trunk (nor their gateway addresses), so in the guest the units that bind a zone's address "
    "(the console, FreeRADIUS) cannot serve and the first apply rolls back"))
def test_first_boot_applies_and_serves(image: Path, qemu_tools: None, tmp_path: Path) -> None:
    site = (EXAMPLES / "ecole.yaml").read_text(encoding="utf-8")
    guest = Guest(tmp_path, image, key=site_key(tmp_path, site), forward=(EXPORTER,))
    started = time.monotonic()
    guest.start()
    try:
        guest.wait_for(r"login:|carine-firstboot: ready|l'application a échoué", BOOT_TIMEOUT)
        done = guest.wait_for(r"carine-firstboot: ready|l'application a échoué", BOOT_TIMEOUT)
        step("first boot to all units active", started)
        if "ready" not in done.group(0):
            time.sleep(20)  # the rest of the failure screen reaches the serial console
        log = guest.log().replace("\r", "")
        assert "ready" in done.group(0), log[-6000:]
        # The guest has no internet: the nightly list update cannot fetch the lists at boot and
        # says so (the helpers fail closed meanwhile). No other unit may fail.
        failed = re.search(r"Unités en échec : (\d+)(?: \(([^)]*)\))?", log)
        assert failed, log[-6000:]
        assert set(filter(None, (failed.group(2) or "").split(", "))) <= \
            {"carine-lists-update.service"}, log[-6000:]
        auth = base64.b64encode(f"prometheus:{METRICS_PASSWORD}".encode()).decode()
        request = urllib.request.Request(f"http://127.0.0.1:{guest.ports[EXPORTER]}/metrics",
                                         headers={"Authorization": f"Basic {auth}"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert b"carine_" in answer.read()
        step("exporter answered through the forwarded port", started)
    finally:
        guest.stop()
