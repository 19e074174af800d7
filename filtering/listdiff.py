"""Compare the domain counts of two generations of the lists: the sanity check an update must
pass before it is switched to, and the "before → after" table printed once it is."""

from __future__ import annotations

from dataclasses import dataclass

from filtering.fetch import UpdateRefused
from filtering.generations import Generation

BIG = 1000  # a category with more domains than this is watched for shrinking


@dataclass(frozen=True)
class Shrink:
    """A watched category that lost too much (``after`` 0 and ``gone``: it disappeared)."""

    category: str
    before: int
    after: int
    gone: bool

    def __str__(self) -> str:
        if self.gone:
            return f"{self.category}: {self.before:,} domains → category gone"
        lost = (self.before - self.after) / self.before
        return f"{self.category}: {self.before:,} → {self.after:,} domains (-{lost:.0%})"


def shrinks(before: dict[str, int], after: dict[str, int], max_shrink: float) -> list[Shrink]:
    """Categories that had more than BIG domains and lost more than ``max_shrink`` of them
    (0.5: more than half), or disappeared. A truncated download or a half-published archive
    looks like this; real lists move by a few percent a day."""
    found = []
    for category, old in sorted(before.items()):
        if old <= BIG:
            continue
        new = after.get(category, 0)
        if category not in after or (old - new) / old > max_shrink:
            found.append(Shrink(category, old, new, category not in after))
    return found


def sanity_check(before: Generation | None, new: Generation, max_shrink: float) -> None:
    """Refuse lists that cannot be right: no domain at all, or a big category shrunk."""
    if new.domains == 0:
        raise UpdateRefused(f"{new.source}: the new lists hold no usable domain",
                            "check that the archive is the UT1 blacklists; the current lists "
                            "stay in place")
    lost = shrinks(before.categories, new.categories, max_shrink) if before else []
    if lost and before is not None:
        raise UpdateRefused(
            f"{new.source}: {len(lost)} categor{'y' if len(lost) == 1 else 'ies'} shrank by "
            f"more than {max_shrink:.0%} since {before.name}: " + "; ".join(map(str, lost)),
            "a truncated or half-published archive? The current lists stay in place; if the "
            "change is real, run again with --max-shrink 1")


def _signed(delta: int) -> str:
    return f"{delta:+,}" if delta else "="


def change_table(before: dict[str, int] | None, after: dict[str, int]) -> list[str]:
    """Lines "category  before → after (delta)" for the big categories (every category when
    none is big, as in a small local list), then new and vanished categories."""
    old = before or {}
    names = sorted(set(old) | set(after))
    big = [n for n in names if max(old.get(n, 0), after.get(n, 0)) > BIG] or names
    width = max((len(n) for n in names), default=8)
    lines = []
    for name in big:
        if name not in old and before is not None:
            lines.append(f"  {name:{width}}  new: {after[name]:,}")
        elif name not in after:
            lines.append(f"  {name:{width}}  {old[name]:,} → gone")
        elif before is None:
            lines.append(f"  {name:{width}}  {after[name]:,}")
        else:
            lines.append(f"  {name:{width}}  {old[name]:,} → {after[name]:,} "
                         f"({_signed(after[name] - old[name])})")
    others = [n for n in names if n not in big]
    added = [n for n in others if n not in old and before is not None]
    gone = [n for n in others if n not in after]
    if added:
        lines.append(f"  new categories: {', '.join(added)}")
    if gone:
        lines.append(f"  categories gone: {', '.join(gone)}")
    return lines
