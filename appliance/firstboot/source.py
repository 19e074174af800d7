"""Where first boot finds the site file: the copy kept on the data partition (a box booting a new
root slot after an update re-applies it), else a USB key or disk whose file system is labelled
CARINE, holding ``site.yaml``."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from appliance.run import run

KEPT = Path("/var/lib/carine/site.yaml")
LABEL = "CARINE"
NAMES = ("site.yaml", "carine.yaml")


@dataclass(frozen=True)
class Found:
    """A site file's text and where it came from (shown to the technician)."""

    text: str
    origin: str


def labelled_devices(label: str = LABEL, disks: Path = Path("/dev/disk")) -> list[str]:
    """Block devices whose file system (or GPT partition) carries ``label`` (udev's links: no
    probing of every drive, floppies included)."""
    found: list[str] = []
    for kind in ("by-label", "by-partlabel"):
        link = disks / kind / label
        if link.exists():
            device = str(link.resolve())
            if device not in found:
                found.append(device)
    return found


def read_from_device(device: str) -> Found | None:
    """The site file on ``device``, mounted read-only for the time of one read."""
    with tempfile.TemporaryDirectory(prefix="carine-key.") as mnt:
        if run(["mount", "-o", "ro", device, mnt], check=False).returncode != 0:
            return None
        try:
            for name in NAMES:
                path = Path(mnt) / name
                if path.is_file():
                    return Found(path.read_text(encoding="utf-8"), f"{device}:/{name}")
            return None
        finally:
            run(["umount", mnt], check=False)


def find_site(kept: Path = KEPT) -> Found | None:
    """The site file to apply, or None while there is none yet."""
    if kept.is_file():
        return Found(kept.read_text(encoding="utf-8"), str(kept))
    for device in labelled_devices():
        found = read_from_device(device)
        if found is not None:
            return found
    return None
