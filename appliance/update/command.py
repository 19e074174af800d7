"""``carine update IMAGE``: check the bundle's signature against the box's key, then write it to
the inactive slot and add its boot entry with three tries; ``carine update --health`` (the
carine-health unit, before boot-complete.target) blesses a counted boot only if CARINE is healthy,
else marks it bad and reboots into the previous slot; ``carine update --status`` says what ran."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
from pathlib import Path
from typing import IO

from appliance.errors import CarineError
from appliance.run import run
from appliance.update.bundle import CHUNK, FILES, opened, public_key, verify
from appliance.update.slots import ESP, PARTS, TRIES, booted_slot, entries, entry_text, other

KEY = Path("/usr/share/carine/update-key.pem")
COUNTED = Path("/sys/firmware/efi/efivars/"
               "LoaderBootCountPath-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f")
CARINE = str(Path(sys.executable).with_name("carine"))


def _copy(src: IO[bytes], dst: IO[bytes]) -> str:
    h = hashlib.sha256()
    while chunk := src.read(CHUNK):
        h.update(chunk)
        dst.write(chunk)
    dst.flush()
    os.fsync(dst.fileno())
    return h.hexdigest()


def _write_esp(path: Path, data: bytes) -> None:
    """Replace a file on the FAT EFI partition (no modes there): write, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".new")
    with partial.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    partial.replace(path)


def update(bundle: Path, key: Path = KEY, esp: Path = ESP, parts: Path = PARTS,
           cmdline: str | None = None) -> str:
    """Write ``bundle`` to the inactive slot; returns the new entry's name."""
    manifest = verify(bundle, public_key(key.read_bytes()))  # before anything is written
    current = booted_slot(cmdline or Path("/proc/cmdline").read_text(encoding="utf-8"))
    target = other(current)
    device = parts / f"carine-root-{target}"
    room = (device.stat().st_size if device.is_file()  # a test's stand-in for the partition
            else int(run(["blockdev", "--getsize64", str(device)]).stdout.strip()))
    if manifest.sizes["root.img"] > room:
        raise CarineError(f"the update's root ({manifest.sizes['root.img']} bytes) does not fit "
                          f"slot {target.upper()} ({room} bytes)")
    known = entries(esp)
    generation = max((e.generation for e in known), default=0) + 1
    for e in known:
        if e.slot == target:  # the slot is overwritten: its old entry must not boot it
            e.path.unlink()
    with opened(bundle, "root.img") as src, device.open("r+b") as dst:
        written = {"root.img": _copy(src, dst)}
    run(["e2fsck", "-fy", str(device)], check=False, timeout=600)
    run(["resize2fs", str(device)], timeout=600)  # the bundle's root is shrunk to its content
    for name in FILES[1:]:
        with opened(bundle, name) as src:
            data = src.read()
        written[name] = hashlib.sha256(data).hexdigest()
        _write_esp(esp / "carine" / target / name, data)
    if written != manifest.sha256:
        raise CarineError(f"{bundle} changed while it was written; slot {target.upper()} "
                          "has no boot entry", "run carine update again")
    name = f"carine-{generation}-{target}+{TRIES}.conf"
    _write_esp(esp / "loader/entries" / name,
               entry_text(generation, target, manifest.version).encode())
    return name


def healthy() -> tuple[bool, str]:
    """No failed unit, and ``carine ready`` passes (while it does not exist: carine.target
    active when it is installed)."""
    failed = run(["systemctl", "--failed", "--plain", "--no-legend", "--no-pager"],
                 check=False).stdout.split("\n")
    failed = [line.split()[0] for line in failed if line.strip()]
    if failed:
        return False, "failed units: " + ", ".join(failed)
    if run([CARINE, "ready", "--help"], check=False).returncode == 0:
        out = run([CARINE, "ready"], check=False, timeout=600)
        return out.returncode == 0, (out.stdout + out.stderr).strip()
    if Path("/etc/systemd/system/carine.target").exists():
        out = run(["systemctl", "is-active", "carine.target"], check=False)
        return out.returncode == 0, "carine.target " + out.stdout.strip()
    return True, "no site applied yet"


def health(settle: float = 10.0, rounds: int = 3) -> int:
    """Healthy twice in a row ``settle`` seconds apart: bless; else a counted boot is bad."""
    said = ""
    for attempt in range(rounds):
        ok, said = healthy()
        if ok:
            time.sleep(settle)
            ok, said = healthy()
            if ok:
                print(f"carine-health: healthy ({said})", flush=True)
                return 0
        if attempt < rounds - 1:
            time.sleep(settle)
    print(f"carine-health: NOT healthy: {said}", flush=True)
    if COUNTED.exists():
        print("carine-health: this boot of an update is marked bad; back to the previous slot",
              flush=True)
        run(["/usr/lib/systemd/systemd-bless-boot", "bad"], check=False)
        run(["systemctl", "reboot", "--no-block"], check=False)
    return 1


def status(esp: Path = ESP) -> str:
    lines = []
    for e in entries(esp):
        state = ("blessed" if e.left is None else "rolled back (no tries left)" if e.bad
                 else f"on trial ({e.left} tries left)")
        lines.append(f"generation {e.generation}  slot {e.slot.upper()}  {state}")
    return "\n".join(lines) or "no CARINE boot entry"


def _update(args: argparse.Namespace) -> int:
    if args.health:
        return health()
    if args.status or args.image is None:
        print(status())
        return 0
    if shutil.which("blockdev") is None or os.geteuid() != 0:
        raise CarineError("carine update runs as root on the appliance")
    name = update(args.image, args.key)
    print(f"written to the inactive slot; boot entry {name} (3 tries): reboot to use it")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("update", help="A/B update from a signed image (then reboot)")
    p.add_argument("image", type=Path, nargs="?", help="the signed update bundle")
    p.add_argument("--key", type=Path, default=KEY, help="the update public key (PEM)")
    p.add_argument("--health", action="store_true", help="bless this boot if healthy")
    p.add_argument("--status", action="store_true", help="the slots and their boot entries")
    p.set_defaults(func=_update)
