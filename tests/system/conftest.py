"""The booted systemd target: a cached Debian 12 root (debootstrap, tests/system/bootstrap.sh),
booted by systemd-nspawn in a private network namespace ``carine-sys-…`` and reached over SSH on
that namespace's loopback with a pinned host key. Nothing in it routes to the host's interfaces.

CARINE inside is this checkout's venv (bind-mounted read-only, linked as /opt/carine/venv)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.run import run, spawn
from appliance.site import load_site
from tests.conftest import EXAMPLES, REPO, require_root, require_tool

HERE = Path(__file__).resolve().parent


@dataclass
class Container:
    ns: str
    root: Path
    work: Path
    inventory: Path
    pid: int

    def ssh(self, *argv: str, check: bool = True, timeout: float = 60) -> str:
        """Run ``argv`` in the container (over its pinned SSH)."""
        out = run(["ip", "netns", "exec", self.ns, "ssh", "-F", "none", "-i",
                   str(self.work / "id"), "-o", f"UserKnownHostsFile={self.work / 'known'}",
                   "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                   "root@127.0.0.1", "--", *argv], check=check, timeout=timeout)
        return out.stdout

    def carine(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run ``carine ARGS`` on the host, inside the container's namespace (the controller)."""
        return subprocess.run(  # noqa: TID251  (tests read the CLI's own output and code)
            ["ip", "netns", "exec", self.ns, str(REPO / ".venv/bin/carine"), *args],
            capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False)


def _netns(ns: str) -> None:
    """The container's network: the example site's uplink and zone links, as bridges (the
    kernel may lack dummy links)."""
    site = load_site(EXAMPLES / "site.yaml")
    run(["ip", "netns", "add", ns])

    def ip(*argv: str) -> None:
        run(["ip", "-n", ns, *argv])

    ip("link", "set", "lo", "up")
    links = [(site.uplink.interface, str(site.uplink.address))]
    links += [(site.zone_ifname(z), str(z.gateway_interface())) for z in site.zones]
    for name, address in links:
        ip("link", "add", name, "type", "bridge")
        ip("addr", "add", address, "dev", name)
        ip("link", "set", name, "up")


def _prepare_root(root: Path, work: Path) -> None:
    """SSH with keys made for this run: the client's key authorised, the host key pinned."""
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / "id")])
    for old in (root / "etc/ssh").glob("ssh_host_*"):
        old.unlink()
    key = root / "etc/ssh/ssh_host_ed25519_key"
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)])
    host_pub = key.with_suffix(".pub").read_text().split()
    (work / "known").write_text(f"127.0.0.1 {host_pub[0]} {host_pub[1]}\n")
    ssh_dir = root / "root/.ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text((work / "id.pub").read_text())
    (root / "etc/ssh/sshd_config.d/carine-test.conf").write_text(
        "ListenAddress 127.0.0.1\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n")
    wants = root / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    (wants / "ssh.service").unlink(missing_ok=True)
    (wants / "ssh.service").symlink_to("/lib/systemd/system/ssh.service")
    _venv(root / "opt/carine/venv")
    # The container's clock is the host's: chronyd serves time but may not set the clock.
    drop = root / "etc/systemd/system/carine-chronyd.service.d"
    drop.mkdir(parents=True, exist_ok=True)
    (drop / "container.conf").write_text(
        "[Service]\nExecStart=\nExecStart=/usr/sbin/chronyd -d -x -f /etc/chrony/chrony.conf\n")
    (work / "inventory").write_text(
        "[schools]\n"
        f"perrin ansible_host=127.0.0.1 ansible_user=root "
        f"ansible_ssh_private_key_file={work / 'id'} ansible_python_interpreter=/usr/bin/python3 "
        f"ansible_ssh_common_args='-F none -o UserKnownHostsFile={work / 'known'} "
        "-o StrictHostKeyChecking=yes'\n")


def _venv(venv: Path) -> None:
    """/opt/carine/venv as installed (not editable): programs from this checkout's venv, and a
    site-packages holding its packages, for FreeRADIUS's python_path (which reads no .pth)."""
    source = REPO / ".venv"
    (venv / "bin").parent.mkdir(parents=True, exist_ok=True)
    if not (venv / "bin").is_symlink():
        (venv / "bin").symlink_to(source / "bin")
    lib = next((source / "lib").glob("python3*/site-packages"))
    target = venv / "lib" / lib.parent.name / "site-packages"
    target.mkdir(parents=True, exist_ok=True)
    entries = [*lib.iterdir(), *(REPO / name for name in
                                 ("appliance", "network", "filtering", "monitoring", "webui"))]
    for entry in entries:
        link = target / entry.name
        if not link.is_symlink():
            link.symlink_to(entry)


def _wait_ssh(box: Container, within: float = 90) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if box.ssh("systemctl", "is-system-running", "--wait", check=False, timeout=60):
                return
        except Exception:  # not up yet
            pass
        if not Path(f"/proc/{box.pid}").exists():
            break
        time.sleep(1)
    log = (box.work / "nspawn.log").read_text(errors="replace")[-3000:]
    pytest.fail(f"the container did not come up over SSH:\n{log}")


@pytest.fixture(scope="session")
def system_root() -> Path:
    """The cached Debian 12 root (built by debootstrap once per package list)."""
    require_root()
    for tool in ("debootstrap", "systemd-nspawn", "ssh", "ansible-playbook"):
        require_tool(tool)
    started = time.monotonic()
    out = run([str(HERE / "bootstrap.sh")], timeout=1500)
    print(f"\n[system] Debian 12 root ready: {time.monotonic() - started:.0f} s", flush=True)
    return Path(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def box(system_root: Path) -> Iterator[Container]:
    """The booted container (an overlay on the cached root: the cache stays clean)."""
    ns = f"carine-sys-{os.getpid()}"
    work = Path(f"/var/tmp/carine-sys-{os.getpid()}")
    merged = work / "merged"
    for sub in ("upper", "ow", "merged"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    work.chmod(0o755)
    run(["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={system_root},upperdir={work / 'upper'},workdir={work / 'ow'}", str(merged)])
    pid = 0
    try:
        _netns(ns)
        _prepare_root(merged, work)
        started = time.monotonic()
        pid = spawn(["systemd-nspawn", "--boot", "--register=no", "--keep-unit", "-q",
                     "--console=passive", f"--network-namespace-path=/run/netns/{ns}",
                     "--capability=CAP_NET_ADMIN", "-D", str(merged),
                     f"--bind-ro={REPO}", f"--machine={ns}"],
                    logfile=work / "nspawn.log")
        container = Container(ns, merged, work, work / "inventory", pid)
        _wait_ssh(container)
        print(f"\n[system] container booted: {time.monotonic() - started:.0f} s", flush=True)
        yield container
    finally:
        if pid:
            os.kill(pid, signal.SIGTERM)  # nspawn asks the container's systemd to power off
            deadline = time.monotonic() + 30
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
                time.sleep(0.2)
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
        run(["umount", str(merged)], check=False)
        run(["ip", "netns", "del", ns], check=False)
        run(["rm", "-rf", "--one-file-system", str(work)], check=False)
