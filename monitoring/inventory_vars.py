"""``group_vars/`` and ``host_vars/`` beside an inventory file, as Ansible reads them: a file
``<name>``, ``<name>.yml``, ``.yaml`` or ``.json``, or a folder ``<name>/`` of such files."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from monitoring.inventory_tree import InventoryInvalid, Vars
from monitoring.inventory_yaml import load_vars_file

log = logging.getLogger("carine.fleet")

SUFFIXES = ("", ".yml", ".yaml", ".json")


def read_vars_beside(folder: Path, kind: str, names: Iterable[str]) -> dict[str, Vars]:
    """Variables of each name found in ``folder/kind`` (kind: group_vars or host_vars)."""
    base = folder / kind
    if not base.is_dir():
        return {}
    found: dict[str, Vars] = {}
    for name in names:
        merged: Vars = {}
        for path in _files(base, name):
            merged.update(_read(path))
        if merged:
            found[name] = merged
    return found


def _files(base: Path, name: str) -> list[Path]:
    files = [p for p in (base / f"{name}{suffix}" for suffix in SUFFIXES) if p.is_file()]
    folder = base / name
    if folder.is_dir():  # Ansible reads a folder's files in name order, later ones winning
        files += sorted(p for p in folder.iterdir()
                        if p.is_file() and p.suffix in SUFFIXES[1:])
    return files


def _read(path: Path) -> Vars:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryInvalid(f"cannot read {path}: {exc}") from None
    if text.startswith("$ANSIBLE_VAULT"):
        # Secrets have no place in target lists; we cannot decrypt it and need not.
        log.warning("%s is encrypted with ansible-vault: skipped", path)
        return {}
    return load_vars_file(text, str(path))
