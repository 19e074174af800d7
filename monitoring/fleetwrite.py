"""Writing the target lists into Prometheus's file_sd folder: each file replaced atomically (the
rename is what Prometheus's file watcher sees), and the files of vanished groups removed."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.errors import CarineError
from monitoring.fleet import GROUP_NAME

MANIFEST = ".carine-targets.manifest"
"""The files we wrote last time: only those are ever removed, never a file of someone else.
Not *.json: Prometheus globs like Go, where `*.json` matches dot files too."""


@dataclass
class Written:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def write_targets(files: dict[str, list[dict[str, Any]]], out: Path) -> Written:
    """Write ``<group>.json`` for each group into ``out``; remove the ones we wrote before for
    groups that are gone (after the new ones are in place, so no school drops out meanwhile)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        done = Written()
        names = []
        for group, content in sorted(files.items()):
            name = f"{group}.json"
            names.append(name)
            text = json.dumps(content, indent=2, ensure_ascii=False) + "\n"
            path = out / name
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                done.unchanged.append(name)
                continue
            _replace(path, text)
            done.written.append(name)
        for name in sorted(set(_previous(out)) - set(names)):
            (out / name).unlink(missing_ok=True)
            done.removed.append(name)
        _replace(out / MANIFEST, json.dumps({"files": names}, indent=2) + "\n")
    except OSError as exc:
        raise CarineError(f"cannot write the target lists in {out}: {exc}",
                          "check that the folder is writable by this user") from None
    return done


def _previous(out: Path) -> list[str]:
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        names = doc["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    # A hand-edited manifest must not make us delete outside the folder or another kind of file.
    return [n for n in names if isinstance(n, str) and n.endswith(".json")
            and GROUP_NAME.match(n.removesuffix(".json"))]


def _replace(path: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.", suffix=".tmp") as tmp:
        try:
            tmp.write(text)
            tmp.flush()
            os.fsync(tmp.fileno())
            os.fchmod(tmp.fileno(), 0o644)  # Prometheus runs as its own user
            Path(tmp.name).replace(path)
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
