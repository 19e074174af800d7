"""Initial passwords waiting to be printed: the only place they exist in clear, a 0600 JSON file
in the state folder, read by `carine users sheet` and emptied of each slip it prints."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from appliance.files import write_atomic

NAME = "imports/initial-passwords.json"
KEEP_DAYS = 30  # an unprinted password older than this is dropped: reset it with users passwd


@dataclass(frozen=True)
class Slip:
    login: str
    password: str
    last_name: str
    first_name: str
    division: str | None
    created: float


def path_in(state: Path) -> Path:
    return state / NAME


def load(state: Path, now: float | None = None) -> dict[str, Slip]:
    """Pending slips by login (expired ones left out)."""
    try:
        doc = json.loads(path_in(state).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    slips = {s["login"]: Slip(**s) for s in doc.get("slips", [])}
    if now is not None:
        slips = {k: s for k, s in slips.items() if now - s.created < KEEP_DAYS * 86400}
    return slips


def _render(slips: dict[str, Slip]) -> str:
    return json.dumps({"version": 1, "slips": [asdict(s) for s in slips.values()]},
                      ensure_ascii=False, indent=1) + "\n"


def stage(state: Path, added: list[Slip], now: float) -> Path | None:
    """Write the merged file beside the real one (0600); ``commit`` puts it in place once the
    directory transaction is committed, ``discard`` drops it on rollback."""
    if not added:
        return None
    slips = load(state, now)
    slips.update({s.login: s for s in added})
    staged = path_in(state).with_suffix(".staged")
    write_atomic(staged, _render(slips), mode=0o600)
    return staged


def commit(staged: Path | None) -> None:
    if staged is not None:
        staged.replace(staged.with_suffix(".json"))


def discard(staged: Path | None) -> None:
    if staged is not None:
        staged.unlink(missing_ok=True)


def save(state: Path, slips: dict[str, Slip]) -> None:
    """Replace the pending slips; the file goes when none is left."""
    target = path_in(state)
    if slips:
        write_atomic(target, _render(slips), mode=0o600)
    else:
        target.unlink(missing_ok=True)
