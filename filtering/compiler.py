"""Compile a UT1 tree into the index file: two tries (domains reversed, URLs), a uint16 category
set id per trie key, and the header (categories, sets, expressions, counts)."""

from __future__ import annotations

import sys
import time
from array import array
from datetime import UTC, datetime
from pathlib import Path

import marisa_trie  # type: ignore[import-not-found]  # no stubs

from appliance.errors import CarineError
from filtering.indexfile import write_index
from filtering.lists import Lists, read_lists
from filtering.report import KINDS, CompileReport

MAX_SETS = 65535  # set ids are uint16
# marisa's defaults (three nested tries): 28 MiB for 4.7 million domains, against 46 MiB with
# one level, whose prefix searches are about 1.7 times as fast. The pages a helper touches count
# in its resident memory, and over a day of varied requests it touches nearly all of them;
# the compiled lane (filtering.fastpath) remembers recent targets, which wins back the speed.
TRIE_OPTIONS = {"num_tries": 3, "cache_size": marisa_trie.DEFAULT_CACHE}


def _trie(keys: dict[str, int], renumber: list[int]) -> tuple[bytes, bytes]:
    """The trie of ``keys`` and, in key id order, the set id of each key (uint16, little-endian).

    marisa chooses key ids itself, so the array is filled from the trie's own (key, id) pairs."""
    trie = marisa_trie.Trie(keys, **TRIE_OPTIONS)
    ids = array("H", bytes(2 * len(trie)))
    for key, key_id in trie.iteritems():
        ids[key_id] = renumber[keys[key]]
    if sys.byteorder != "little":
        ids.byteswap()
    data: bytes = trie.tobytes()
    return data, ids.tobytes()


def _header(lists: Lists, used: list[int], source: str) -> dict[str, object]:
    report = lists.report
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "categories": lists.categories,
        "aliases": report.aliases,
        "category_sets": [list(lists.sets.sets[old]) for old in used],
        "expressions": lists.expressions,
        "counts": {
            "domains": len(lists.domains),
            "urls": len(lists.urls),
            "expressions": sum(len(p) for p in lists.expressions.values()),
            "category_sets": len(used),
            "malformed": report.malformed,
            "entries": {name: {kind: files[kind].entries for kind in KINDS if kind in files}
                        for name, files in report.categories.items()},
        },
    }


def compile_lists(lists: Path, out: Path, source: str | None = None) -> CompileReport:
    """Read the UT1 tree at ``lists`` and write its index to ``out`` (atomically: readers see
    the old index or the new one, never a part). Malformed lines are counted, not fatal."""
    started = time.monotonic()
    data = read_lists(lists, source)
    report = data.report
    # Sets that only existed on the way (an entry seen in one category, then a second) go.
    used = sorted(set(data.domains.values()) | set(data.urls.values()))
    if len(used) > MAX_SETS:
        raise CarineError(f"{lists}: {len(used)} distinct category combinations, the index "
                          f"holds at most {MAX_SETS}", "merge or drop categories")
    renumber = [0] * len(data.sets.sets)
    for new, old in enumerate(used):
        renumber[old] = new
    domain_trie, domain_sets = _trie(data.domains, renumber)
    url_trie, url_sets = _trie(data.urls, renumber)
    sections = {"domain_trie": domain_trie, "domain_sets": domain_sets,
                "url_trie": url_trie, "url_sets": url_sets}
    report.index_bytes = write_index(out, _header(data, used, report.source), sections)
    report.domain_keys, report.url_keys = len(data.domains), len(data.urls)
    report.category_sets = len(used)
    report.seconds = time.monotonic() - started
    return report
