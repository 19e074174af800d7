"""The README's commands against the lab run as typed (issue 12 point 7): each ``carine --lab``
line and each ``carine lab exec NODE -- carine ...`` line of its code blocks, in a shell whose
PATH has this checkout's ``carine``, exits 0 and says what it should."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from appliance.lab.driver import LabDriver
from appliance.run import run
from tests.unit.test_paths import readme_commands

pytestmark = pytest.mark.lab
BIN = Path(sys.executable).parent


def _lab_lines() -> list[str]:
    return [line for line in readme_commands()
            if line.startswith("carine --lab ") or
            (line.startswith("carine lab exec ") and " -- carine " in line)]


def test_readme_lab_lines_run_as_typed(lab: LabDriver) -> None:
    lines = _lab_lines()
    assert "carine --lab wifi status" in lines and len(lines) >= 8
    env = {"PATH": f"{BIN}:{os.environ.get('PATH', '')}", "CARINE_LAB": ""}
    outputs = {}
    for line in lines:
        done = run(["sh", "-c", line], env=env, timeout=120, check=False)
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs[line] = done.stdout
    assert "ap-cdi" in outputs["carine --lab wifi status"]
    assert "radio on" in outputs["carine --lab wifi radio on ap-cdi"]
    assert "applied" in outputs["carine --lab wifi radio on ap-cdi"]
    assert "games" in outputs["carine --lab filter lookup http://poki.com/"]
    assert "eleve.lab" in outputs["carine --lab users list --profile eleve"]
    assert "ap-cdi" in outputs["carine lab exec appliance -- carine wifi status"]


def test_plain_wifi_status_needs_the_switch(lab: LabDriver) -> None:
    """Without --lab (and no appliance installed here) the same command looks at /etc/carine:
    the switch is what makes it find the lab."""
    if Path("/etc/carine/site.yaml").exists():
        pytest.fail("this machine has an installed site: the test cannot tell the two apart")
    done = run([str(BIN / "carine"), "wifi", "status"], env={"CARINE_LAB": ""}, timeout=60,
               check=False)
    assert done.returncode != 0 and "/etc/carine/site.yaml" in done.stderr
