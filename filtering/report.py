"""What a compilation of the lists found: per category and file, entries, comments, blank and
malformed lines (with the first examples), then what went into the index; and its text form."""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("domains", "urls", "expressions")
EXAMPLES_KEPT = 3


@dataclass
class FileCount:
    """The lines of one list file (or the sum over several)."""

    entries: int = 0
    comments: int = 0
    blank: int = 0
    malformed: int = 0
    # (file, line number, line, reason) of the first malformed lines
    examples: list[tuple[str, int, str, str]] = field(default_factory=list)

    def bad(self, where: str, lineno: int, line: str, reason: str) -> None:
        """Count a malformed line; keep it as an example while there are few."""
        self.malformed += 1
        if len(self.examples) < EXAMPLES_KEPT:
            self.examples.append((where, lineno, line[:120], reason))

    def add(self, other: FileCount) -> None:
        self.entries += other.entries
        self.comments += other.comments
        self.blank += other.blank
        self.malformed += other.malformed
        room = EXAMPLES_KEPT - len(self.examples)
        self.examples.extend(other.examples[:max(room, 0)])


@dataclass
class CompileReport:
    """Counts of one compilation; the index fields are filled once the index is written."""

    source: str
    categories: dict[str, dict[str, FileCount]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    domain_keys: int = 0  # distinct domains in the index (a domain in two categories: once)
    url_keys: int = 0
    category_sets: int = 0
    index_bytes: int = 0
    seconds: float = 0.0

    def total(self, kind: str) -> FileCount:
        """The sum of one kind of file over every category."""
        out = FileCount()
        for files in self.categories.values():
            if kind in files:
                out.add(files[kind])
        return out

    @property
    def entries(self) -> int:
        return sum(self.total(kind).entries for kind in KINDS)

    @property
    def malformed(self) -> int:
        return sum(self.total(kind).malformed for kind in KINDS)

    def summary(self, per_category: bool = False) -> str:
        """The report as a person reads it after `carine filter compile`."""
        aliases = ", ".join(f"{a} -> {c}" for a, c in sorted(self.aliases.items()))
        lines = [f"{self.source}: {len(self.categories)} categories"
                 + (f" (aliases: {aliases})" if aliases else "")]
        lines.append(f"  {'':13}{'entries':>10}{'comments':>10}{'blank':>8}{'malformed':>11}")
        for kind in KINDS:
            t = self.total(kind)
            lines.append(f"  {kind:13}{t.entries:>10,}{t.comments:>10,}{t.blank:>8,}"
                         f"{t.malformed:>11,}")
        if per_category:
            lines.append(f"  {'category':26}{'domains':>10}{'urls':>8}{'expr':>6}{'malformed':>11}")
            for name, files in sorted(self.categories.items()):
                counts = [files[k].entries if k in files else 0 for k in KINDS]
                bad = sum(f.malformed for f in files.values())
                lines.append(f"  {name:26}{counts[0]:>10,}{counts[1]:>8,}{counts[2]:>6,}"
                             f"{bad:>11,}")
        examples = [e for kind in KINDS for e in self.total(kind).examples]
        if examples:
            lines.append("  malformed lines (skipped), first examples:")
            lines += [f"    {where}:{n}: {text!r}: {why}" for where, n, text, why in examples]
        if self.index_bytes:
            lines.append(f"  index: {self.domain_keys:,} distinct domains, {self.url_keys:,} "
                         f"distinct URLs, {self.category_sets:,} category sets, "
                         f"{self.index_bytes / 2**20:.1f} MiB")
        return "\n".join(lines)
