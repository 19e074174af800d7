"""Read a UT1 tree (squidGuard layout: <category>/{domains,urls,expressions}) into normalised
entries with their category sets, counting every line; a bad line is skipped, never fatal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from appliance.errors import CarineError
from filtering.names import (
    Malformed,
    normalise_domain,
    normalise_url,
    translate_expression,
)
from filtering.report import KINDS, CompileReport, FileCount

__all__ = ["CompileReport", "FileCount", "KeySink", "Lists", "ListsInvalid", "find_tree",
           "read_lists"]

KeySink = Callable[[str, int], None]
"""Where read_lists puts each normalised key with its category's number."""


class ListsInvalid(CarineError):
    """No usable UT1 tree where the lists were said to be."""

    exit_code = 2


class SetTable:
    """Distinct category sets, interned: an entry holds a small set id, not a set of its own
    (5 million entries, a few hundred distinct sets)."""

    def __init__(self) -> None:
        self.sets: list[tuple[int, ...]] = [()]  # id 0: the empty set, held by no entry
        self._ids: dict[tuple[int, ...], int] = {(): 0}
        self._steps: dict[int, dict[int, int]] = {}

    def step(self, category: int) -> dict[int, int]:
        """For one category, set id -> id of that set plus the category (filled as needed)."""
        return self._steps.setdefault(category, {})

    def add(self, steps: dict[int, int], set_id: int, category: int) -> int:
        """The id of set ``set_id`` plus ``category``; ``steps`` caches it for the next line."""
        members = tuple(sorted({*self.sets[set_id], category}))
        new = self._ids.setdefault(members, len(self.sets))
        if new == len(self.sets):
            self.sets.append(members)
        steps[set_id] = new
        return new


@dataclass
class Lists:
    """Everything read from a tree: trie keys with their set ids, expressions per category."""

    categories: list[str]
    report: CompileReport
    sets: SetTable = field(default_factory=SetTable)
    domains: dict[str, int] = field(default_factory=dict)  # domain_key -> set id
    urls: dict[str, int] = field(default_factory=dict)  # host/path -> set id
    expressions: dict[str, list[str]] = field(default_factory=dict)


def _categories(root: Path) -> dict[str, Path]:
    """Folders of ``root`` holding at least one list file, by name; a symlink to another of them
    is an alias (see _aliases), not a second category."""
    found = {}
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        if any((entry / kind).is_file() for kind in KINDS):
            found[entry.name] = entry
    real = {p.resolve() for p in found.values() if not p.is_symlink()}
    return {n: p for n, p in found.items() if not (p.is_symlink() and p.resolve() in real)}


def find_tree(lists: Path) -> Path:
    """The folder holding the category folders: ``lists`` itself or its ``blacklists/``."""
    if not lists.is_dir():
        raise ListsInvalid(f"{lists}: no such directory", "give the folder of the UT1 lists")
    for root in (lists / "blacklists", lists):
        if root.is_dir() and _categories(root):
            return root
    raise ListsInvalid(
        f"{lists} is not a UT1 tree: no category folder with a domains, urls or expressions file",
        "point --lists at the folder that holds adult/, games/… (or the one holding blacklists/)")


def _aliases(root: Path, categories: dict[str, Path]) -> dict[str, str]:
    """UT1's other names for categories (``porn`` -> ``adult``): symlinks to a category folder,
    or, where an archive turned the symlinks into files, small files naming one."""
    by_target = {p.resolve(): n for n, p in categories.items()}
    found = {}
    for entry in sorted(root.iterdir()):
        if entry.name in categories or entry.name.startswith("."):
            continue
        if entry.is_dir() and entry.resolve() in by_target:
            found[entry.name] = by_target[entry.resolve()]
        elif entry.is_file() and entry.stat().st_size < 64:
            text = entry.read_text(encoding="utf-8", errors="replace").strip()
            if text in categories:
                found[entry.name] = text
    return found


def _lines(path: Path, where: str, count: FileCount) -> Iterator[tuple[int, str]]:
    """The candidate entries of a list file, by line number; blank, comment and undecodable
    lines are counted here and never yielded."""
    try:
        lines = path.open(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CarineError(f"cannot read {path}: {exc.strerror}") from exc
    with lines:
        for lineno, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line:
                count.blank += 1
            elif line.startswith("#"):
                count.comments += 1
            elif "\ufffd" in line:
                count.bad(where, lineno, line, "undecodable bytes (not UTF-8)")
            else:
                yield lineno, line


def into(keys: dict[str, int], sets: SetTable) -> KeySink:
    """A sink that keeps keys in memory with their set ids (small trees, tests)."""
    def add(key: str, category: int) -> None:
        steps = sets.step(category)
        old = keys.get(key, 0)
        new = steps.get(old)
        keys[key] = sets.add(steps, old, category) if new is None else new
    return add


def _read_keys(path: Path, where: str, count: FileCount, sink: KeySink, category: int,
               domains: bool) -> None:
    for lineno, line in _lines(path, where, count):
        try:
            # inlined: this loop runs once per line, 5 million times at full scale
            key = ".".join(normalise_domain(line).split(".")[::-1]) + "." if domains \
                else normalise_url(line)
        except Malformed as exc:
            count.bad(where, lineno, line, str(exc))
            continue
        count.entries += 1
        sink(key, category)


def _read_expressions(path: Path, where: str, count: FileCount) -> list[str]:
    patterns = []
    for lineno, line in _lines(path, where, count):
        try:
            patterns.append(translate_expression(line))
        except Malformed as exc:
            count.bad(where, lineno, line, str(exc))
            continue
        count.entries += 1
    return patterns


def read_lists(lists: Path, source: str | None = None, domains: KeySink | None = None,
               urls: KeySink | None = None) -> Lists:
    """Read every category of the UT1 tree at ``lists``; raise ListsInvalid if nothing usable.

    Keys go to ``domains`` and ``urls`` when given (the compiler spills them to disk), else
    into the result's dicts."""
    root = find_tree(lists)
    folders = _categories(root)
    report = CompileReport(source or str(root), aliases=_aliases(root, folders))
    out = Lists(list(folders), report)
    sinks = {"domains": domains or into(out.domains, out.sets),
             "urls": urls or into(out.urls, out.sets)}
    for index, (name, folder) in enumerate(folders.items()):
        files = report.categories[name] = {}
        for kind in KINDS:
            path = folder / kind
            if not path.is_file():
                continue
            count = files[kind] = FileCount()
            where = f"{name}/{kind}"
            if kind == "expressions":
                patterns = _read_expressions(path, where, count)
                if patterns:
                    out.expressions[name] = patterns
            else:
                _read_keys(path, where, count, sinks[kind], index, kind == "domains")
    if not report.entries:
        raise ListsInvalid(f"{lists}: no usable entry in {len(folders)} categories "
                           f"({report.malformed} malformed lines)",
                           "check that these are UT1 lists (one domain or URL per line)")
    return out
