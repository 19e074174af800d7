"""Shared fixtures and the skip-or-fail policy for tests that need tools or root.

On a developer's machine a missing tool (or running without root) skips the test, with the reason;
in CI (env CI == "true") it fails instead, so a test never silently stops running there.
Lab-specific fixtures live in tests/lab/conftest.py; keep this file generic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

from appliance.site import Site, load_site, parse_site

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def in_ci() -> bool:
    """Whether we run in CI, where every test must really run."""
    return os.environ.get("CI") == "true"


def _unavailable(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"{reason} (CI=true: a test may not be skipped in CI)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The path of the program ``name``; skip the test without it (fail in CI)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if path is None:
        _unavailable(f"{name} is not installed")
    return path


def require_root() -> None:
    """Skip the test unless we are root (fail in CI)."""
    if os.geteuid() != 0:
        _unavailable("needs root")


def lycee_variant(**changes: Any) -> Site:
    """The lycée example with some sections replaced (``filtering={...}``) or some zones edited
    (``zone_guest={"internet": "direct"}``; a value of None removes that key of the zone)."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "site.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key.startswith("zone_"):
            zone = next(z for z in data["zones"] if z["name"] == key.removeprefix("zone_"))
            for field, new in value.items():
                if new is None:
                    zone.pop(field, None)
                else:
                    zone[field] = new
        else:
            data[key] = value
    return parse_site(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    """The repository's examples/ directory."""
    return EXAMPLES


@pytest.fixture(scope="session")
def lycee_site() -> Site:
    """examples/site.yaml: the lycée with five zones and a static uplink."""
    return load_site(EXAMPLES / "site.yaml")


@pytest.fixture(scope="session")
def ecole_site() -> Site:
    """examples/ecole.yaml: the small école with two zones behind a DHCP uplink."""
    return load_site(EXAMPLES / "ecole.yaml")
