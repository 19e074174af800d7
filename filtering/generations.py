"""The index's generations: compiled lists kept in ``<index dir>/generations/`` with a JSON
manifest; the index path is a symlink to one of them, switched by one atomic rename.

Which generation is current is never taken from the manifest: it is the file the index path
opens (same inode, or failing that same content digest), so a crash between the switch and the
manifest write cannot make them disagree."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from appliance.errors import CarineError
from appliance.files import sync_folder, write_atomic
from filtering.index import Index

FOLDER = "generations"
SUFFIX = ".cidx"
WORK_PREFIX = ".work-"


@dataclass(frozen=True)
class Generation:
    """One compiled index kept for switching back to, and where its lists came from."""

    name: str  # file name in the generations folder: <created>-<sha8>.cidx
    created: str  # when it was compiled (ISO 8601, UTC)
    source: str
    index_sha256: str  # the index's own data digest (from its header)
    domains: int  # distinct domains
    categories: dict[str, int] = field(default_factory=dict)  # domain entries per category
    sha256: str | None = None  # of the archive (None: a folder, or an index found in place)
    checked: str | None = None  # the published digest it matched, e.g. "md5:<hex>"
    published: str | None = None  # the server's Last-Modified, or the archive file's time

    @classmethod
    def from_meta(cls, name: str, meta: dict[str, Any], **extra: Any) -> Generation:
        """The record of an index, from its header."""
        counts = meta.get("counts", {})
        categories = {c: int(files.get("domains", 0))
                      for c, files in counts.get("entries", {}).items()}
        return cls(name, str(meta.get("created", "")), str(meta.get("source", "")),
                   str(meta.get("sha256", "")), int(counts.get("domains", 0)), categories,
                   **extra)


@dataclass
class Manifest:
    """manifest.json: the generations, oldest first, and the archives rolled back from."""

    generations: list[Generation] = field(default_factory=list)
    withdrawn: list[dict[str, str]] = field(default_factory=list)  # {sha256, name, at}

    def find(self, name: str) -> Generation | None:
        return next((g for g in self.generations if g.name == name), None)


def write_json(path: Path, doc: object) -> None:
    """Write ``doc`` to ``path`` atomically, readable by the filtering group (like the index)."""
    text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    write_atomic(path, text, mode=0o644)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _age(generation: Generation) -> tuple[datetime, str]:
    """Oldest first; ``created`` has microseconds, so two updates in one second keep order."""
    try:
        when = datetime.fromisoformat(generation.created)
    except ValueError:
        when = datetime.min
    return (when if when.tzinfo else when.replace(tzinfo=UTC)), generation.name


class Store:
    """The generations of the index at ``index``."""

    def __init__(self, index: Path) -> None:
        self.index = index
        self.dir = index.parent / FOLDER
        self.manifest_path = self.dir / "manifest.json"
        self.status_path = self.dir / "status.json"
        self.lock_path = self.dir / ".lock"

    def path(self, generation: Generation) -> Path:
        return self.dir / generation.name

    def load(self) -> Manifest:
        """The manifest, reconciled with the folder: records of deleted files go, files
        without a record (a crash before the manifest was written) get one from their header."""
        manifest = Manifest()
        try:
            doc = json.loads(self.manifest_path.read_text(encoding="utf-8"))
            manifest = Manifest([Generation(**g) for g in doc["generations"]],
                                list(doc.get("withdrawn", [])))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CarineError(f"{self.manifest_path} is unreadable: {exc}",
                              f"move it aside; it is rebuilt from the files in {self.dir}") from exc
        manifest.generations = [g for g in manifest.generations if self.path(g).is_file()]
        known = {g.name for g in manifest.generations}
        for path in sorted(self.dir.glob(f"*{SUFFIX}")):
            if path.name not in known and not path.name.startswith("."):
                try:
                    with Index.open(path, verify=False) as index:
                        manifest.generations.append(Generation.from_meta(path.name, index.meta))
                except CarineError:
                    continue  # not an index of ours: left alone, never switched to
        manifest.generations.sort(key=_age)
        return manifest

    def save(self, manifest: Manifest) -> None:
        write_json(self.manifest_path, {"format": 1, "index": str(self.index),
                                        "generations": [asdict(g) for g in manifest.generations],
                                        "withdrawn": manifest.withdrawn[-20:]})

    def current(self, manifest: Manifest) -> Generation | None:
        """The generation the index path opens now, or None (no index, or not one of ours)."""
        try:
            st = self.index.stat()
        except OSError:
            return None
        for generation in manifest.generations:
            try:
                kept = self.path(generation).stat()
            except OSError:
                continue
            if (kept.st_dev, kept.st_ino) == (st.st_dev, st.st_ino):
                return generation
        try:  # an equal copy (adopted where a hard link was not possible)
            with Index.open(self.index, verify=False) as index:
                digest = index.meta.get("sha256")
        except CarineError:
            return None
        return next((g for g in manifest.generations if g.index_sha256 == digest), None)

    def new_name(self, created: datetime, digest: str) -> str:
        stem = f"{created:%Y%m%dT%H%M%SZ}-{digest[:8]}"
        name, n = f"{stem}{SUFFIX}", 1
        while (self.dir / name).exists():
            n += 1
            name = f"{stem}-{n}{SUFFIX}"
        return name

    def adopt(self, manifest: Manifest) -> Generation | None:
        """Keep an index found in place (compiled by ``carine filter compile``) as a generation,
        so that an update can be rolled back to it. Its file is hard-linked, not moved."""
        if not self.index.exists() or self.current(manifest) is not None:
            return None
        try:
            with Index.open(self.index) as index:
                meta = index.meta
        except CarineError:
            return None  # a broken index is nothing to return to
        created = datetime.fromisoformat(meta.get("created") or utc_now().isoformat())
        generation = Generation.from_meta(self.new_name(created, meta["sha256"]), meta)
        target = self.path(generation)
        try:
            os.link(self.index, target)  # follows a symlink: the file itself, no copy
        except OSError:
            staged = self.dir / f".{generation.name}.tmp"
            shutil.copyfile(self.index, staged)
            staged.replace(target)
        manifest.generations.append(generation)
        manifest.generations.sort(key=_age)
        return generation

    def switch(self, generation: Generation) -> None:
        """Point the index path at ``generation`` with one rename: a reader opens the old
        generation or the new one, never a missing or partial file."""
        link = self.index.with_name(f".{self.index.name}.switch")
        link.unlink(missing_ok=True)
        # Relative, so that the state folder can be moved or mounted elsewhere (lab roots).
        link.symlink_to(os.path.relpath(self.path(generation), self.index.parent))
        link.replace(self.index)
        sync_folder(self.index.parent)

    def prune(self, manifest: Manifest, keep: int, current: Generation) -> list[str]:
        """Delete all but the ``keep`` newest generations, never ``current``."""
        kept = {g.name for g in manifest.generations[-keep:]} | {current.name}
        gone = [g for g in manifest.generations if g.name not in kept]
        for generation in gone:
            # A helper still mapping it keeps its pages until it moves to the new one.
            self.path(generation).unlink(missing_ok=True)
        manifest.generations = [g for g in manifest.generations if g.name in kept]
        return [g.name for g in gone]

    def clean(self) -> None:
        """Remove what an interrupted update left (called with the lock held)."""
        for leftover in self.dir.glob(f"{WORK_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
        for leftover in self.dir.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        self.index.with_name(f".{self.index.name}.switch").unlink(missing_ok=True)
