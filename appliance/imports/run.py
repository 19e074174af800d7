"""One import run from files to outcome: analyse, prepare, then (unless a dry run) apply, write the
per-record change log and the heartbeat. One run at a time per state folder (a lock file)."""

from __future__ import annotations

import fcntl
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from appliance.directory.schema import open_directory
from appliance.files import write_atomic
from appliance.imports import heartbeat
from appliance.imports.analyse import Analysis, analyse
from appliance.imports.apply import VERB, Progress, apply
from appliance.imports.codes import ImportRefused
from appliance.imports.model import Settings
from appliance.imports.prepare import Plan, prepare
from appliance.imports.source import MAX_MB
from appliance.state import STATE_FILE


@dataclass
class Outcome:
    import_id: str
    analysis: Analysis
    plan: Plan
    applied: bool
    change_log: Path | None = None

    @property
    def blocking(self) -> list[object]:
        return [*self.analysis.blocking, *(i for i in self.plan.issues if i.blocking)]


@contextmanager
def locked(state: Path) -> Iterator[None]:
    """Serialise imports (and purges) of one state folder."""
    folder = state / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportRefused("IMP-021", str(folder), "another import is running") from None
        yield


def run_import(paths: list[Path], state: Path, settings: Settings, *, dry_run: bool,
               mode: str = "auto", force: bool = False, max_mb: int = MAX_MB,
               encoding: str | None = None, actor: str = "operator",
               journal_root: Path | None = None, now: float | None = None,
               progress: Progress | None = None) -> Outcome:
    """Run the three phases; a refused file or a blocking issue leaves everything unchanged
    (only the heartbeat of a real run records the failure)."""
    now = time.time() if now is None else now
    import_id = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ-") + \
        secrets.token_hex(3)
    names = [str(p) for p in paths]
    with locked(state):
        try:
            analysis = analyse(paths, settings, mode, max_mb, encoding)
            conn = open_directory(state / STATE_FILE)
            try:
                plan = prepare(conn, analysis, settings, force)
                outcome = Outcome(import_id, analysis, plan, False)
                if dry_run or outcome.blocking:
                    if not dry_run:
                        heartbeat.write(state, "refused", now, plan.count(), names,
                                        f"{len(outcome.blocking)} blocking problem(s)")
                    return outcome
                apply(conn, plan, analysis.structures, state,
                      journal_root or state / "journal", import_id, actor, now, progress)
            finally:
                conn.close()
        except ImportRefused as exc:
            if not dry_run:
                heartbeat.write(state, "refused" if exc.code != "IMP-021" else "failed", now,
                                {}, names, exc.message)
            raise
        outcome.applied = True
        if plan.applicable():
            outcome.change_log = write_change_log(state, outcome, now)
        heartbeat.write(state, "ok", now, plan.count(), names)
        return outcome


def write_change_log(state: Path, outcome: Outcome, now: float) -> Path:
    """One JSON line per changed record (no names, no password): what the operator and the
    support read to know what an import did."""
    rows = []
    for c in outcome.plan.applicable():
        rows.append(json.dumps({
            "import_id": outcome.import_id, "at": now, "action": VERB[c.action],
            "source": c.source, "category": c.category, "key": c.key, "login": c.login,
            "profile": c.profile, "changed": list(c.changed), "file": Path(c.file).name or None,
            "line": c.line}, ensure_ascii=False, sort_keys=True))
    path = state / "imports" / "changes" / f"{outcome.import_id}.jsonl"
    write_atomic(path, "".join(r + "\n" for r in rows), mode=0o600)
    return path
