"""A CARINE disk booted in qemu-system-x86_64 (TCG, OVMF, serial console to a file), with a
copy-on-write overlay so the built image stays pristine, an optional second disk (the CARINE key)
and TCP ports forwarded from 127.0.0.1 only."""

from __future__ import annotations

import re
import shutil
import socket
import time
from pathlib import Path

from appliance.run import run

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def site_key(folder: Path, site_text: str) -> Path:
    """A 64 MiB disk with one GPT partition, a FAT file system labelled CARINE holding site.yaml
    (what the technician's USB key holds), made without mounting (mkfs.vfat, mcopy)."""
    disk, part, site = folder / "key.img", folder / "key-part.img", folder / "site.yaml"
    site.write_text(site_text, encoding="utf-8")
    run(["truncate", "-s", "64M", str(disk)])
    run(["sfdisk", "-q", str(disk)], input_text="label: gpt\nstart=1MiB, type=L\n")
    run(["mkfs.vfat", "-n", "CARINE", "-C", str(part), str(62 * 1024)])
    run(["mcopy", "-i", str(part), str(site), "::/site.yaml"])
    run(["dd", f"if={part}", f"of={disk}", "bs=1M", "seek=1", "conv=notrunc", "status=none"])
    return disk


class Guest:
    """One virtual machine; ``disk`` is a qcow2 overlay over the image, kept across reboots."""

    def __init__(self, folder: Path, image: Path, key: Path | None = None,
                 forward: tuple[int, ...] = ()) -> None:
        self.folder, self.key = folder, key
        self.disk = folder / "disk.qcow2"
        self.vars = folder / "OVMF_VARS.fd"
        self.serial = folder / "serial.log"
        self.ports = {guest: free_port() for guest in forward}
        run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", str(image), "-F", "raw",
             str(self.disk)])
        shutil.copy(OVMF_VARS, self.vars)
        self.pid: int | None = None
        self.boots = 0

    def start(self) -> None:
        """Boot (again): the serial log of each boot is appended to serial.log."""
        fwd = "".join(f",hostfwd=tcp:127.0.0.1:{h}-:{g}" for g, h in self.ports.items())
        argv = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", "2048", "-smp", "2",
                "-display", "none", "-monitor", "none", "-daemonize",
                "-pidfile", str(self.folder / "qemu.pid"),
                "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                "-drive", f"if=pflash,format=raw,file={self.vars}",
                "-drive", f"file={self.disk},if=virtio,format=qcow2",
                "-netdev", f"user,id=n0{fwd}", "-device", "virtio-net-pci,netdev=n0",
                "-chardev", f"file,id=ser,path={self.serial},append=on",
                "-serial", "chardev:ser"]
        if self.key is not None:
            argv += ["-drive", f"file={self.key},if=virtio,format=raw,readonly=on"]
        self.mark = self.serial.stat().st_size if self.serial.exists() else 0
        run(argv, timeout=60)
        self.pid = int((self.folder / "qemu.pid").read_text().strip())
        self.boots += 1

    def log(self) -> str:
        """The serial console since this boot started."""
        with self.serial.open("rb") as f:
            f.seek(self.mark)
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first match of ``pattern`` on this boot's console; fails with the log's tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            if self.pid is not None and not Path(f"/proc/{self.pid}").exists():
                break
            time.sleep(2)
        raise AssertionError(f"no {pattern!r} on the console within {timeout:.0f} s; "
                             f"tail:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        """Power off (by the PID we started), waiting until QEMU exited."""
        if self.pid is None:
            return
        run(["kill", str(self.pid)], check=False)
        for _ in range(100):
            if not Path(f"/proc/{self.pid}").exists():
                break
            time.sleep(0.1)
        self.pid = None
