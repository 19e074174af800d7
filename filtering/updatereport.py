"""What ``carine filter update`` and ``carine filter generations`` print: the switch and the
domains per big category before → after; the generations kept and the last attempt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from filtering.generations import Generation, Store
from filtering.listdiff import change_table
from filtering.updatestatus import read_status

if TYPE_CHECKING:
    from filtering.attempt import Outcome


def _when(iso: str | None) -> str:
    """An ISO time as 2025-01-31 04:12 (UTC); as given if it is not one."""
    return (iso or "?")[:16].replace("T", " ")


def _delta(before: int, after: int) -> str:
    return f"{before:,} → {after:,} ({after - before:+,})" if after != before else f"{after:,} (=)"


def outcome_lines(outcome: Outcome) -> list[str]:
    """The report of one update or rollback, as a technician reads it."""
    before, after = outcome.before, outcome.after
    if after is None:
        lines = [f"{outcome.note}: nothing switched"]
    else:
        lines = [outcome.note]
        checked = f", {after.checked.split(':')[0]} checked" if after.checked else ""
        published = f" (published {_when(after.published)})" if after.published else ""
        lines.append(f"  lists: {after.source}{checked}{published}")
        lines.append("  domains: " + (_delta(before.domains, after.domains) if before
                                      else f"{after.domains:,} (first generation)"))
        lines += change_table(before.categories if before else None, after.categories)
    if outcome.pruned:
        lines.append(f"  pruned: {', '.join(outcome.pruned)}")
    if outcome.action == "rollback" and before is not None:
        lines.append(f"  the lists of {before.name} are withdrawn: an update will not apply them "
                     "again without --allow-withdrawn")
    if outcome.dns is not None:
        lines.append(f"  DNS views: {'refresh FAILED: ' if outcome.dns_failed else ''}"
                     f"{outcome.dns}")
    lines.append(f"done in {outcome.seconds:.1f} s")
    return lines


def _row(generation: Generation, current: bool, withdrawn: bool) -> str:
    marks = ("* " if current else "  ")
    checked = generation.checked.split(":")[0] + " checked" if generation.checked else "unchecked"
    flag = "  WITHDRAWN" if withdrawn else ""
    return (f"{marks}{generation.name}  {_when(generation.created)}  {generation.domains:>11,} "
            f"domains  {checked:12}  {generation.source}{flag}")


def generations_lines(index: Path) -> list[str]:
    """The generations kept for ``index``, oldest first, the current one starred; then the
    last attempt from status.json."""
    store = Store(index)
    if not store.dir.is_dir():
        return [f"{index}: no generation yet (the first `carine filter update` makes one)"]
    manifest = store.load()
    current = store.current(manifest)
    withdrawn = {entry.get("name") for entry in manifest.withdrawn}
    lines = [f"generations of {index} (in {store.dir}), oldest first, * current:"]
    lines += [_row(g, g == current, g.name in withdrawn) for g in manifest.generations]
    if not manifest.generations:
        lines.append("  none")
    if current is None:
        lines.append(f"  the index at {index} is none of these" if index.exists()
                     else f"  there is no index at {index}: filtered zones are refused")
    status = read_status(store)
    if status:
        lines.append(f"last attempt: {status.get('action')} at {_when(status.get('attempted'))}: "
                     f"{status.get('result')} — {status.get('reason')}")
    return lines
