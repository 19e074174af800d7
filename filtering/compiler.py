"""Compile a UT1 tree into the index file: the domain trie (reversed names, in shards), the URL
trie, a uint16 category set id per trie key, and the header (categories, sets, expressions).

Keys are spilled to disk, sorted and grouped there (filtering/spill.py), then each shard's trie
is built from its file alone: memory stays bounded whatever the size of the lists."""

from __future__ import annotations

import sys
import tempfile
import time
import zlib
from array import array
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import marisa_trie  # type: ignore[import-not-found]  # no stubs

from appliance.errors import CarineError
from filtering.indexfile import ALIGN, write_index
from filtering.lists import Lists, read_lists
from filtering.report import KINDS, CompileReport
from filtering.shards import shard_count, site_of
from filtering.sitefilter import SECTION, SiteFilter
from filtering.spill import Spill

MAX_SETS = 65535  # set ids are uint16
# marisa's defaults (three nested tries): 28 MiB for 4.7 million domains, against 46 MiB with
# one level, whose prefix searches are about 1.7 times as fast. The pages a helper touches count
# in its resident memory, and over a day of varied requests it touches nearly all of them;
# the compiled lane (filtering.fastpath) remembers recent targets, which wins back the speed.
TRIE_OPTIONS = {"num_tries": 3, "cache_size": marisa_trie.DEFAULT_CACHE}


def _keys(path: Path) -> object:
    with path.open(encoding="utf-8", newline="\n") as lines:
        for line in lines:
            yield line[:line.rindex("\t")]


def _trie(path: Path, renumber: list[int]) -> tuple[bytes, bytes]:
    """The trie of the keys in ``path`` (lines ``key TAB set id``) and, in key id order, the
    set id of each key (uint16, little-endian). marisa chooses key ids itself, so the array is
    filled by looking each key up in the built trie."""
    trie = marisa_trie.Trie(_keys(path), **TRIE_OPTIONS)
    ids = array("H", bytes(2 * len(trie)))
    key_id = trie.key_id
    with path.open(encoding="utf-8", newline="\n") as lines:
        for line in lines:
            key, _, set_id = line.rstrip("\n").rpartition("\t")
            ids[key_id(key)] = renumber[int(set_id)]
    if sys.byteorder != "little":
        ids.byteswap()
    data: bytes = trie.tobytes()
    path.unlink()
    return data, ids.tobytes()


def _header(lists: Lists, used: list[int], source: str, counts: tuple[int, int],
            shards: list[list[int]]) -> dict[str, object]:
    report = lists.report
    return {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        "categories": lists.categories,
        "aliases": report.aliases,
        "category_sets": [list(lists.sets.sets[old]) for old in used],
        "expressions": lists.expressions,
        "domain_shards": shards,
        "counts": {
            "domains": counts[0],
            "urls": counts[1],
            "expressions": sum(len(p) for p in lists.expressions.values()),
            "category_sets": len(used),
            "malformed": report.malformed,
            "entries": {name: {kind: files[kind].entries for kind in KINDS if kind in files}
                        for name, files in report.categories.items()},
        },
    }


def _split(spill: Spill, lists: Lists, files: Sequence[TextIO], used: set[int],
           sites: SiteFilter | None = None) -> int:
    """Write each distinct key with its set id to its shard's file (one-label domain keys to
    every shard), adding each key's site to ``sites``; return how many distinct keys there
    were."""
    count = 0
    for key, set_id in spill.grouped(lists.sets):
        count += 1
        used.add(set_id)
        line = f"{key}\t{set_id}\n"
        if len(files) == 1 and sites is None:
            files[0].write(line)
            continue
        site = site_of(key)
        if sites is not None:
            sites.add(key if site is None else site)
        if len(files) == 1:
            files[0].write(line)
        elif site is None:
            for file in files:
                file.write(line)
        else:
            files[zlib.crc32(site.encode()) % len(files)].write(line)
    return count


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % ALIGN)


def compile_lists(lists: Path, out: Path, source: str | None = None) -> CompileReport:
    """Read the UT1 tree at ``lists`` and write its index to ``out`` (atomically: readers see
    the old index or the new one, never a part). Malformed lines are counted, not fatal.

    The keys pass through a temporary folder beside ``out`` (removed at the end)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".carine-compile-") as tmp:
        folder = Path(tmp)
        domains, urls = Spill(folder, "domains"), Spill(folder, "urls")
        data = read_lists(lists, source, domains.add, urls.add)
        report = data.report
        names = [folder / f"domains-{n}" for n in range(shard_count(domains.lines))]
        used: set[int] = set()
        files = [name.open("w", encoding="utf-8", newline="\n") for name in names]
        sites = SiteFilter(domains.lines)
        try:
            domain_keys = _split(domains, data, files, used, sites)
        finally:
            for file in files:
                file.close()
        with (folder / "urls-0").open("w", encoding="utf-8", newline="\n") as file:
            url_keys = _split(urls, data, [file], used)
        # Sets that only existed on the way (an entry seen in one category, then a second) go.
        ordered = sorted(used)
        if len(ordered) > MAX_SETS:
            raise CarineError(f"{lists}: {len(ordered)} distinct category combinations, the "
                              f"index holds at most {MAX_SETS}", "merge or drop categories")
        renumber = [0] * len(data.sets.sets)
        for new, old in enumerate(ordered):
            renumber[old] = new
        tries, sets, shards = [], [], []
        trie_at = sets_at = 0
        for name in names:  # one shard's trie at a time: the builder's memory is per shard
            trie, ids = _trie(name, renumber)
            shards.append([trie_at, len(trie), sets_at, len(ids)])
            tries.append(_pad(trie))
            sets.append(_pad(ids))
            trie_at += len(tries[-1])
            sets_at += len(sets[-1])
        url_trie, url_sets = _trie(folder / "urls-0", renumber)
    sections = {"domain_trie": b"".join(tries), "domain_sets": b"".join(sets),
                "url_trie": url_trie, "url_sets": url_sets}
    filter_data = sites.data()
    if filter_data is not None:
        sections[SECTION] = filter_data
    header = _header(data, ordered, report.source, (domain_keys, url_keys), shards)
    report.index_bytes = write_index(out, header, sections)
    report.domain_keys, report.url_keys = domain_keys, url_keys
    report.category_sets = len(ordered)
    report.seconds = time.monotonic() - started
    return report
