"""Lab fixtures: one lab for the session (brought up again if a test took it down)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from appliance.lab import commands
from appliance.lab.driver import LabDriver
from appliance.lab.state import LabState

SITE = Path(__file__).resolve().parents[2] / "examples" / "site.yaml"
TOOLS = ("ip", "nft", "dnsmasq", "squid", "busybox", "curl", "ss", "dig", "chronyd", "runuser")


def _require_lab() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    why = None
    if os.geteuid() != 0:
        why = "the lab needs root"
    elif missing:
        why = f"the lab needs {', '.join(missing)} (make install)"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{why}: in CI a lab test may not skip")
        pytest.skip(why)


@pytest.fixture(scope="session")
def lab_session():
    _require_lab()
    # A lab someone else brought up (a developer, a benchmark) is theirs: leave it up after.
    found_up = commands.healthy(LabState.load(commands.STATE)) and \
        LabState.load(commands.STATE).ready
    yield
    if os.geteuid() == 0 and not found_up:
        with commands._locked():
            commands.down(quiet=True)


@pytest.fixture
def lab(lab_session) -> LabDriver:
    """A running lab for examples/site.yaml (``up`` is idempotent, so this is cheap)."""
    with commands._locked():
        commands.up(SITE)
    return LabDriver()
