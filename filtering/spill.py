"""Trie keys gathered on disk instead of in memory: lines ``key TAB category`` sorted by GNU
sort with a bounded buffer, read back grouped (each key once, with its category set id).

This is what keeps ``carine filter compile`` of 5 million domains within a few hundred MiB:
only one shard's keys are ever held, by marisa's builder (filtering/compiler.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from appliance.run import run
from filtering.lists import SetTable

SORT_BUFFER = "48M"  # GNU sort spills sorted runs to the folder beyond this and merges them


class Spill:
    """One kind of key (domains or URLs), written as read; ``grouped`` sorts and groups them."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.path = folder / f"{name}.lines"
        self.lines = 0
        self._out = self.path.open("w", encoding="utf-8", newline="\n", buffering=1 << 20)

    def add(self, key: str, category: int) -> None:
        # Normal keys hold no tab, newline or other control character (filtering.names refuses
        # them), so a tab ends the key and sorting whole lines keeps one key's lines together.
        self._out.write(f"{key}\t{category}\n")
        self.lines += 1

    def sink(self) -> Callable[[str, int], None]:
        return self.add

    def grouped(self, sets: SetTable) -> Iterator[tuple[str, int]]:
        """(key, set id) of every distinct key, in byte order; removes the files as it goes."""
        self._out.close()
        ordered = self.path.with_suffix(".sorted")
        run(["sort", "-S", SORT_BUFFER, "-T", str(self.folder), "-o", str(ordered),
             str(self.path)], timeout=3600, env={**os.environ, "LC_ALL": "C"})
        self.path.unlink()
        key: str | None = None
        set_id = 0
        with ordered.open(encoding="utf-8", newline="\n") as lines:
            for line in lines:
                this, _, category = line.rstrip("\n").rpartition("\t")
                if this != key:
                    if key is not None:
                        yield key, set_id
                    key, set_id = this, 0
                steps = sets.step(int(category))
                new = steps.get(set_id)
                set_id = sets.add(steps, set_id, int(category)) if new is None else new
        if key is not None:
            yield key, set_id
        ordered.unlink()
