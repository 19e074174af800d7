"""The two root slots and their systemd-boot entries on the EFI partition.

An entry is ``loader/entries/carine-<generation>-<slot>[+left[-done]].conf``: systemd-boot boots
the highest generation that still has tries; a counted entry that reaches ``+0`` sorts last, so
the previous slot boots again by itself (boot counting, Boot Loader Specification)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import CarineError

ESP = Path("/boot/efi")
PARTS = Path("/dev/disk/by-partlabel")
ENTRY = re.compile(r"^carine-(?P<gen>\d+)-(?P<slot>[ab])(?:\+(?P<left>\d+)(?:-(?P<done>\d+))?)?"
                   r"\.conf$")
TRIES = 3


@dataclass(frozen=True)
class Entry:
    path: Path
    generation: int
    slot: str
    left: int | None  # None: blessed (or never counted)

    @property
    def bad(self) -> bool:
        return self.left == 0


def entries(esp: Path = ESP) -> list[Entry]:
    """CARINE's boot entries, newest generation first."""
    found = []
    for path in (esp / "loader/entries").glob("carine-*.conf"):
        m = ENTRY.match(path.name)
        if m:
            left = None if m["left"] is None else int(m["left"])
            found.append(Entry(path, int(m["gen"]), m["slot"], left))
    return sorted(found, key=lambda e: -e.generation)


def booted_slot(cmdline: str) -> str:
    """The slot this boot runs from (``carine.slot=`` on the kernel command line)."""
    m = re.search(r"(?:^|\s)carine\.slot=([ab])(?:\s|$)", cmdline)
    if not m:
        raise CarineError("this system was not booted from a CARINE slot (no carine.slot=)",
                          "carine update runs on the appliance's image only")
    return m[1]


def other(slot: str) -> str:
    return "b" if slot == "a" else "a"


def entry_text(generation: int, slot: str, version: str) -> str:
    """The entry image/entry.sh writes for the first slot: the same for every update."""
    return (f"title CARINE {version} (slot {slot.upper()}, generation {generation})\n"
            f"linux /carine/{slot}/vmlinuz\ninitrd /carine/{slot}/initrd.img\n"
            f"options root=PARTLABEL=carine-root-{slot} rw systemd.gpt_auto=0 net.ifnames=0 "
            f"console=tty1 console=ttyS0,115200 carine.slot={slot}\n")


def failed_updates(esp: Path = ESP) -> list[Entry]:
    """Entries whose tries ran out: updates that were rolled back."""
    return [e for e in entries(esp) if e.bad]
