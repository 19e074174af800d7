"""What applying a tree would change: each file (a unified diff, secrets masked) and each unit
(the reload or restart its changed files imply, from the units' own declarations).

Pure: two trees in (``path -> content``), a plan out; ``carine diff`` and apply both use it."""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

UNITS_JSON = PurePosixPath("etc/carine/units.json")
UNIT_DIR = PurePosixPath("etc/systemd/system")
MASK = "******"

# Files whose whole content is secret (keys, shared secrets): shown as changed, never printed.
SECRET_FILES = ("*.key", "*secret*", "*/secrets/*", "*.pem")
# Values of these keys are masked on any line (``password_hash: ...``, ``"secret": "..."``).
SECRET_VALUE = re.compile(
    r"""(?P<key>["']?[\w-]*(?:secret|password|passphrase|psk|token)[\w-]*["']?\s*[=:]\s*)"""
    r"""(?P<value>"[^"]*"|'[^']*'|\S+)""", re.IGNORECASE)

# Files no unit reads, whose change asks the system to take them (``sysctl``, ``sysusers`` ...).
SYSTEM_ACTIONS = (
    ("etc/sysctl.d/*", "systemctl restart systemd-sysctl"),
    ("usr/lib/sysusers.d/*", "systemd-sysusers"),
    ("usr/lib/tmpfiles.d/*", "systemd-tmpfiles --create"),
    ("etc/systemd/system/*", "systemctl daemon-reload"),
)

Kind = Literal["added", "removed", "changed"]
Action = Literal["start", "reload", "restart", "stop"]


@dataclass(frozen=True)
class FileChange:
    path: PurePosixPath
    kind: Kind
    diff: str
    secret: bool = False


@dataclass(frozen=True)
class UnitAction:
    unit: str
    action: Action
    because: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    files: tuple[FileChange, ...]
    units: tuple[UnitAction, ...]
    system: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.files


def is_secret(path: PurePosixPath) -> bool:
    return any(fnmatch.fnmatch(str(path), pattern) for pattern in SECRET_FILES)


def mask(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``******``."""
    return SECRET_VALUE.sub(lambda m: m.group("key") + MASK, text)


def _unified(path: PurePosixPath, old: str | None, new: str | None) -> str:
    if is_secret(path):
        return f"  (secret file {path}: content not shown)\n"
    lines = difflib.unified_diff(
        mask(old).splitlines(keepends=True) if old is not None else [],
        mask(new).splitlines(keepends=True) if new is not None else [],
        fromfile=f"installed/{path}" if old is not None else "/dev/null",
        tofile=f"new/{path}" if new is not None else "/dev/null")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def file_changes(old: Mapping[PurePosixPath, str],
                 new: Mapping[PurePosixPath, str]) -> list[FileChange]:
    changes: list[FileChange] = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        kind: Kind = "added" if before is None else "removed" if after is None else "changed"
        changes.append(FileChange(path, kind, _unified(path, before, after), is_secret(path)))
    return changes


def units_doc(tree: Mapping[PurePosixPath, str]) -> dict[str, dict[str, Any]]:
    """The units the tree declares (``etc/carine/units.json``, written by the core)."""
    text = tree.get(UNITS_JSON)
    if text is None:
        return {}
    doc: dict[str, dict[str, Any]] = json.loads(text)
    return doc


def _reads(path: str, reads: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in reads)


def unit_actions(changes: list[FileChange], old: Mapping[PurePosixPath, str],
                 new: Mapping[PurePosixPath, str]) -> list[UnitAction]:
    """Per unit: start it if it is new, stop it if it is gone, restart it if its unit file
    changed, else reload (or restart, as it declares) it if a file it reads changed."""
    before, after = units_doc(old), units_doc(new)
    changed = {"/" + str(c.path) for c in changes}
    actions: list[UnitAction] = []
    for name in sorted(set(before) | set(after)):
        unit_file = f"/{UNIT_DIR}/{name}"
        info = after.get(name)
        if info is None:
            actions.append(UnitAction(name, "stop", (unit_file,)))
            continue
        if info.get("kind") == "timer":
            if name not in before or unit_file in changed:
                actions.append(UnitAction(name, "restart" if name in before else "start",
                                          (unit_file,)))
            continue
        if name not in before:
            actions.append(UnitAction(name, "start", (unit_file,)))
            continue
        if unit_file in changed:
            actions.append(UnitAction(name, "restart", (unit_file,)))
            continue
        hit = tuple(sorted(p for p in changed if _reads(p, list(info.get("reads", [])))))
        if hit:
            reload = info.get("reload", {}).get("kind", "restart")
            # A oneshot (the ruleset) takes its file by running again.
            action: Action = "restart" if reload == "restart" or info.get("kind") == "oneshot" \
                else "reload"
            actions.append(UnitAction(name, action, hit))
    return actions


def system_actions(changes: list[FileChange]) -> list[str]:
    wanted = [cmd for pattern, cmd in SYSTEM_ACTIONS
              if any(fnmatch.fnmatch(str(c.path), pattern) for c in changes)]
    return wanted


def plan(old: Mapping[PurePosixPath, str], new: Mapping[PurePosixPath, str]) -> Plan:
    """What installing ``new`` over ``old`` changes (``old`` empty on a first apply)."""
    changes = file_changes(old, new)
    return Plan(tuple(changes), tuple(unit_actions(changes, old, new)),
                tuple(system_actions(changes)))


def report(p: Plan, *, show_diff: bool = True) -> str:
    """The plan as a technician reads it: files, then units, then system steps."""
    if p.empty:
        return "nothing to change: the installed generation is this site's\n"
    out = [f"{len(p.files)} file(s) change:\n"]
    for c in p.files:
        out.append(f"  {c.kind:8} /{c.path}\n")
    if show_diff:
        out += ["\n", *(c.diff for c in p.files)]
    out.append("\nunits:\n" if p.units else "\nno unit needs a reload or restart\n")
    for a in p.units:
        out.append(f"  {a.action:8} {a.unit}  ({', '.join(a.because)})\n")
    if p.system:
        out.append("system: " + "; ".join(p.system) + "\n")
    return "".join(out)
