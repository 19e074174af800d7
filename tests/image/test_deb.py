"""The Debian package: built by make deb's script, lintian without error, and dpkg knows the venv,
the compiled filtering lane and the Debian dependencies the appliance runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from appliance.run import run

pytestmark = pytest.mark.image


def test_deb_is_named_by_version_and_arch(deb: Path) -> None:
    assert deb.name == "carine_0.1.0_amd64.deb"


def test_dpkg_knows_the_venv_and_the_compiled_lane(deb: Path) -> None:
    files = run(["dpkg-deb", "--contents", str(deb)]).stdout
    assert "./usr/lib/carine/bin/carine" in files
    assert "./usr/bin/carine -> ../lib/carine/bin/carine" in files
    assert "/site-packages/filtering/_fastpath." in files
    assert "__pycache__" not in files


def test_debian_dependencies_are_declared(deb: Path) -> None:
    depends = run(["dpkg-deb", "--field", str(deb), "Depends"]).stdout
    for package in ("squid-openssl", "nftables", "dnsmasq-base", "chrony", "freeradius",
                    "hostapd", "clamav-daemon", "borgbackup"):
        assert package in depends


def test_apt_installs_it_on_a_plain_debian_12(deb: Path, debian_root: Path,
                                              tmp_path: Path) -> None:
    """A technician without the image: `apt install ./carine_…deb` on Debian 12, then the command
    runs. The root has the dependencies already (no network here), so apt only unpacks ours."""
    root = tmp_path / "root"
    root.mkdir()
    run(["tar", "-C", str(root), "--numeric-owner", "-xf", str(debian_root)], timeout=600)
    # Packages must not start daemons in a chroot.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    shutil.copy(deb, root / "tmp" / deb.name)
    try:
        run(["mount", "-t", "proc", "proc", str(root / "proc")])
        env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND=noninteractive"]
        run(["chroot", str(root), *env, "apt-get", "install", "-y", f"/tmp/{deb.name}"],
            timeout=600)
        status = run(["chroot", str(root), "dpkg-query", "-W", "-f", "${Status}", "carine"])
        assert status.stdout == "install ok installed"
        shown = run(["chroot", str(root), *env, "carine", "--help"])
        assert "apply" in shown.stdout or "render" in shown.stdout
        # Bytecode was compiled by postinst (the daemons' /usr is read-only).
        assert list((root / "usr/lib/carine/lib").rglob("__pycache__"))
    finally:
        run(["umount", "-l", str(root / "proc")], check=False)
