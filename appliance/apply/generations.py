"""The installed generations: each checked tree that was applied, kept whole with its manifest.

``STORE/N/tree`` holds the files, ``STORE/N/generation.json`` their hashes and when they were
made; ``STORE/current`` points at the one installed. Rollback installs the one before."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo

from appliance.errors import CarineError
from appliance.files import write_atomic

STORE = Path("/var/lib/carine/generations")
META = "generation.json"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Generation:
    """One applied (or being applied) tree: its number, folder, time (UTC) and file hashes."""

    number: int
    folder: Path
    created: datetime
    uai: str
    timezone: str
    site_sha256: str
    files: Mapping[str, str]
    """Path inside the tree -> sha256 of its content."""
    state: str = "applied"
    """``staged`` while apply runs, ``applied`` once it served, ``failed`` if rolled back."""

    @property
    def tree(self) -> Path:
        return self.folder / "tree"

    def read(self, path: PurePosixPath | str) -> str:
        return (self.tree / str(path)).read_text(encoding="utf-8")

    def contents(self) -> dict[PurePosixPath, str]:
        return {PurePosixPath(p): self.read(p) for p in sorted(self.files)}

    def installed(self) -> dict[PurePosixPath, str]:
        """What applying it installs: its tree and the site file (the units that read the site
        file restart when it changes, so a plan compares it too)."""
        return with_site(self.contents(), (self.folder / "site.yaml").read_text(encoding="utf-8"))

    def local_time(self) -> str:
        """When it was made, as the school's people read it (the site's time zone)."""
        return self.created.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")


SITE_FILE = PurePosixPath("etc/carine/site.yaml")


def with_site(files: Mapping[PurePosixPath, str], site_text: str) -> dict[PurePosixPath, str]:
    """A rendered tree with the site file beside it, where apply installs it."""
    return {**files, SITE_FILE: site_text}


def _load(folder: Path) -> Generation:
    try:
        doc = json.loads((folder / META).read_text(encoding="utf-8"))
        created = datetime.fromisoformat(doc["created"])
        return Generation(int(doc["number"]), folder, created, doc["uai"], doc["timezone"],
                          doc["site_sha256"], dict(doc["files"]), doc.get("state", "applied"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CarineError(f"generation {folder} is damaged: {exc}",
                          f"inspect {folder}; remove it if it is not the current one") from exc


class Store:
    """The generation folders under ``root`` (``/var/lib/carine/generations`` on the box)."""

    def __init__(self, root: Path = STORE) -> None:
        self.root = root

    def all(self) -> list[Generation]:
        if not self.root.is_dir():
            return []
        found = [_load(p) for p in self.root.iterdir()
                 if p.is_dir() and p.name.isdigit() and (p / META).exists()]
        return sorted(found, key=lambda g: g.number)

    def get(self, number: int) -> Generation:
        folder = self.root / f"{number:04d}"
        if not (folder / META).exists():
            raise CarineError(f"there is no generation {number}",
                              "list them: carine generations")
        return _load(folder)

    def current(self) -> Generation | None:
        link = self.root / "current"
        if not link.is_symlink():
            return None
        return _load(self.root / link.readlink())

    def previous(self) -> Generation | None:
        """The last applied generation before the current one (what a rollback installs)."""
        cur = self.current()
        if cur is None:
            return None
        older = [g for g in self.all() if g.number < cur.number and g.state == "applied"]
        return older[-1] if older else None

    def stage(self, files: Mapping[PurePosixPath, str], *, uai: str, timezone: str,
              site_text: str, now: datetime) -> Generation:
        """Write a new generation (state ``staged``) holding ``files``; nothing is installed."""
        if now.tzinfo is None:
            raise CarineError("a generation's time must be aware (UTC)")
        existing = self.all()
        number = existing[-1].number + 1 if existing else 1
        folder = self.root / f"{number:04d}"
        partial = folder.with_name(folder.name + ".new")
        shutil.rmtree(partial, ignore_errors=True)
        for path, content in files.items():
            write_atomic(partial / "tree" / str(path), content, mode=0o600)
        doc = {"number": number, "created": now.astimezone(UTC).isoformat(), "uai": uai,
               "timezone": timezone, "site_sha256": sha256(site_text), "state": "staged",
               "files": {str(p): sha256(c) for p, c in sorted(files.items())}}
        write_atomic(partial / META, json.dumps(doc, indent=2) + "\n", mode=0o600)
        write_atomic(partial / "site.yaml", site_text, mode=0o600)
        partial.chmod(0o700)
        partial.rename(folder)
        return _load(folder)

    def mark(self, gen: Generation, state: str) -> Generation:
        doc = json.loads((gen.folder / META).read_text(encoding="utf-8"))
        doc["state"] = state
        write_atomic(gen.folder / META, json.dumps(doc, indent=2) + "\n", mode=0o600)
        return _load(gen.folder)

    def make_current(self, gen: Generation) -> None:
        """Point ``current`` at ``gen`` in one rename (a reader sees the old or the new)."""
        tmp = self.root / ".current.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(gen.folder.name)
        tmp.replace(self.root / "current")

    def prune(self, keep: int = 5) -> list[int]:
        """Remove the oldest generations beyond ``keep``, never the current or its previous."""
        protected = {g.number for g in (self.current(), self.previous()) if g is not None}
        gens = self.all()
        removed = [g.number for g in gens[:-keep] if g.number not in protected] if keep else []
        for number in removed:
            shutil.rmtree(self.root / f"{number:04d}")
        return removed
