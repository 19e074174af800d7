"""Read a CARINE disk image without mounting it: its GPT (sfdisk), its ext4 partitions (debugfs at
an offset) and its EFI partition (mtools at an offset); the image level's shared helpers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from appliance.run import run


@dataclass(frozen=True)
class Partition:
    name: str
    type: str
    start: int  # bytes
    size: int  # bytes


def partitions(image: Path) -> dict[str, Partition]:
    """The image's GPT partitions by name."""
    table = json.loads(run(["sfdisk", "--json", str(image)]).stdout)["partitiontable"]
    sector = int(table.get("sectorsize", 512))
    return {p["name"]: Partition(p["name"], p["type"], p["start"] * sector, p["size"] * sector)
            for p in table["partitions"]}


def ext4_cat(image: Path, part: Partition, path: str) -> str:
    """A file of an ext4 partition of the image (empty if missing)."""
    return run(["debugfs", "-R", f"cat {path}", f"{image}?offset={part.start}"]).stdout


def ext4_ls(image: Path, part: Partition, path: str) -> list[str]:
    """The names in a directory of an ext4 partition of the image."""
    out = run(["debugfs", "-R", f"ls -p {path}", f"{image}?offset={part.start}"]).stdout
    # ls -p prints /inode/mode/uid/gid/name/size/ per entry.
    names = [f.split("/")[5] for f in out.splitlines() if f.count("/") >= 6]
    return [n for n in names if n not in (".", "..")]


def esp_cat(image: Path, part: Partition, path: str) -> str:
    """A file of the EFI partition of the image (mtools, no vfat mount)."""
    return run(["mtype", "-i", f"{image}@@{part.start}", f"::{path}"]).stdout


def esp_ls(image: Path, part: Partition, path: str) -> list[str]:
    """The names in a directory of the EFI partition."""
    out = run(["mdir", "-b", "-i", f"{image}@@{part.start}", f"::{path}"]).stdout
    return [line.rstrip("/").rsplit("/", 1)[-1] for line in out.splitlines() if line.strip()]
