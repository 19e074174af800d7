"""Where rendered configuration and runtime files live: on the appliance, in a tree, in the lab.

Renderers write paths through a ``Layout`` so that one renderer serves all three places."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

FIELDS = ("config", "state", "run", "log", "programs")


def installed_programs() -> Path:
    """Where this installation's console scripts are (the venv's bin)."""
    return Path(sys.executable).parent


PROGRAMS = Path("/opt/carine/venv/bin")


@dataclass(frozen=True)
class Layout:
    """Absolute locations a rendered configuration refers to.

    ``config`` is the root the rendered files are installed under ("/" on the appliance);
    ``state``, ``run`` and ``log`` are where daemons keep leases, PIDs and logs; ``programs``
    holds CARINE's own executables (the Squid helper, the block page server)."""

    config: Path
    state: Path
    run: Path
    log: Path
    programs: Path = PROGRAMS

    @classmethod
    def system(cls) -> Layout:
        """The appliance itself: files under /, state in /var/lib/carine, runtime files in
        /run/carine, logs in /var/log/carine, programs in /opt/carine/venv/bin."""
        return cls(Path("/"), Path("/var/lib/carine"), Path("/run/carine"), Path("/var/log/carine"),
                   Path("/opt/carine/venv/bin"))

    @classmethod
    def in_tree(cls, root: Path) -> Layout:
        """Everything under ``root``: a self-contained tree the tools can check where it lies."""
        root = root.absolute()
        return cls(root, root / "var/lib/carine", root / "run/carine", root / "var/log/carine",
                   installed_programs())

    def etc(self, relative: str) -> Path:
        """Absolute path of a configuration file, e.g. ``etc("squid/squid.conf")``."""
        return self.config / "etc" / relative

    def tree_path(self, absolute: Path) -> PurePosixPath:
        """Where a configuration file sits inside the rendered tree."""
        return PurePosixPath(absolute.relative_to(self.config))

    def to_json(self) -> dict[str, str]:
        return {key: str(getattr(self, key)) for key in FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Layout:
        return cls(*(Path(str(data[key])) for key in FIELDS))
