"""Where the commands find the appliance they act on: the installed system (/etc, /var/lib/carine)
or the lab (/run/carine-lab, with `carine --lab ...` or CARINE_LAB=1, which `lab exec` sets).

Every command takes its default site file, rendered configuration and state folder from here."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import CarineError

LAB_DIR = Path("/run/carine-lab")
LAB_ENV = "CARINE_LAB"  # "1": commands act on the lab (set inside `carine lab exec`)


@dataclass(frozen=True)
class Paths:
    """The installed tree's root, the state folder, and where the site file is recorded."""

    root: Path
    state: Path
    run: Path
    log: Path
    site_file: Path | None  # None: the site is the one the lab records in its state.json
    lab: bool = False

    @classmethod
    def system(cls) -> Paths:
        return cls(Path("/"), Path("/var/lib/carine"), Path("/run/carine"),
                   Path("/var/log/carine"), Path("/etc/carine/site.yaml"))

    @classmethod
    def of_lab(cls, lab_dir: Path | None = None) -> Paths:
        lab_dir = lab_dir or LAB_DIR
        return cls(lab_dir / "tree", lab_dir / "state", lab_dir / "run", lab_dir / "log", None,
                   lab=True)

    def etc(self, relative: str) -> Path:
        """A rendered configuration file, e.g. ``etc("carine/journal.json")``."""
        return self.root / "etc" / relative

    def lab_record(self) -> dict[str, Any]:
        """What the running lab recorded (its state.json); a clear error when no lab is up."""
        record = self.root.parent / "state.json"
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CarineError(f"no lab is up ({record}: {exc})",
                              "make lab, or carine lab up SITE") from exc
        if not isinstance(data, dict) or not data.get("site"):
            raise CarineError(f"the lab record {record} names no site", "carine lab up SITE")
        return data

    @property
    def site(self) -> Path:
        """The site file: /etc/carine/site.yaml, or the one the running lab runs (its radio
        scheduler's copy when the 802.1X corner is up, else the file `lab up` was given)."""
        if self.site_file is not None:
            return self.site_file
        record = self.lab_record()
        wifi = record.get("info", {}).get("wifi", {})
        return Path(str(wifi.get("site") or record["site"]))

    def local_aps(self) -> list[str]:
        """``AP=CTRL_DIR:INTERFACE`` for each access point reached through a local control
        socket: the lab's hostapd (none on the appliance, which reaches them over SSH)."""
        if not self.lab:
            return []
        wifi = self.lab_record().get("info", {}).get("wifi", {})
        if not wifi.get("ap"):
            return []
        return [f"{wifi['ap']}={wifi['ctrl']}:{wifi['port']}"]


@dataclass(frozen=True)
class Default:
    """An option's default that depends on ``--lab``: ``main`` replaces it, after parsing, by
    the chosen ``Paths``' ``state``, ``site``, or ``etc(relative)``. Shown as the system's."""

    what: str  # "state", "site", "run", "log" or "etc"
    relative: str = ""

    def resolve(self, where: Paths) -> Path:
        if self.what == "etc":
            return where.etc(self.relative)
        found: Path = getattr(where, self.what)
        return found

    def __str__(self) -> str:
        return str(self.resolve(Paths.system()))


def resolve_defaults(args: argparse.Namespace, where: Paths) -> None:
    """Put ``where``'s paths in every option left at a ``Default``."""
    args.paths = where
    for name, value in vars(args).items():
        if isinstance(value, Default):
            setattr(args, name, value.resolve(where))


def from_environment() -> Paths:
    return Paths.of_lab() if os.environ.get(LAB_ENV) == "1" else Paths.system()


def of(args: argparse.Namespace) -> Paths:
    """The paths ``carine`` chose for this command (``--lab`` or the environment)."""
    found = getattr(args, "paths", None)
    return found if isinstance(found, Paths) else from_environment()
