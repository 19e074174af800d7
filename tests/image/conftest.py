"""Fixtures of the image level: the .deb (make deb) and the disk image (make image), each built
once per session by the project's own scripts, which cache their slow parts under /var/cache."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appliance.run import run
from tests.conftest import REPO, require_root, require_tool


def step(name: str, started: float) -> None:
    """Print a step's time (the issue asks for each one)."""
    print(f"\n[image] {name}: {time.monotonic() - started:.0f} s", flush=True)


@pytest.fixture(scope="session")
def deb() -> Path:
    """dist/carine_<version>_amd64.deb, built by scripts/build-deb.sh (lintian must pass)."""
    for tool in ("dpkg-buildpackage", "dh_virtualenv", "lintian"):
        require_tool(tool)
    started = time.monotonic()
    out = run([str(REPO / "scripts/build-deb.sh")], timeout=900, cwd=REPO)
    step("deb built and lintian-clean", started)
    return REPO / out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def image(deb: Path) -> Path:
    """The disk image (image/build.sh), with the .deb installed."""
    require_root()
    for tool in ("debootstrap", "sfdisk", "mkfs.ext4", "mkfs.vfat", "mcopy", "debugfs"):
        require_tool(tool)
    started = time.monotonic()
    out = run([str(REPO / "image/build.sh"), str(deb)], timeout=1200, cwd=REPO)
    step("image built", started)
    print(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "", flush=True)
    return REPO / out.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def debian_root() -> Path:
    """The cached debootstrapped Debian 12 root of the image (image/bootstrap.sh), as a tar."""
    require_root()
    require_tool("debootstrap")
    started = time.monotonic()
    out = run([str(REPO / "image/bootstrap.sh")], timeout=1800, cwd=REPO)
    step("Debian 12 root ready (debootstrap, cached)", started)
    return Path(out.stdout.strip().splitlines()[-1])
