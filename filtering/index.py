"""The shared list index: compile UT1 lists into one file; map it read-only and look hosts and
URLs up. Every helper process maps the same pages; nothing is copied per process."""

from __future__ import annotations

import os
import re
import sys
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import marisa_trie  # type: ignore[import-not-found]  # no stubs

from appliance.errors import CarineError
from filtering.compiler import compile_lists
from filtering.fastpath import FastLane
from filtering.indexfile import Mapped, map_index
from filtering.names import (
    Malformed,
    combine_expressions,
    combined_pattern,
    normalise_domain,
    strip_scheme,
    url_key,
)
from filtering.shards import shard_of
from filtering.sitefilter import SECTION

__all__ = ["Index", "compile_lists"]

EMPTY: frozenset[str] = frozenset()
# Hosts that take the careful path: a final dot to drop, or an address (only a whole IPv4
# address is listed, and it matches itself only, never "1.192.0.2.7").
_SLOW_ENDINGS = frozenset(".0123456789")


def _closed(*_args: Any) -> Any:
    raise CarineError("the filtering index was closed", "open it again with Index.open")


def _shards(path: Path, mapped: Mapped) -> list[tuple[int, int, int, int]]:
    """(trie offset, trie length, sets offset, sets length) of each domain shard inside the
    domain sections; a version 1 index is one shard. CarineError when they do not fit."""
    tries, sets = len(mapped.section("domain_trie")), len(mapped.section("domain_sets"))
    found = mapped.header.get("domain_shards", [[0, tries, 0, sets]])
    try:
        shards = [(int(a), int(b), int(c), int(d)) for a, b, c, d in found]
    except (TypeError, ValueError):
        shards = []
    for trie_at, trie_len, sets_at, sets_len in shards:
        if trie_at % 8 or sets_at % 2 or sets_len % 2 or min(trie_at, trie_len, sets_at) < 0 \
                or trie_at + trie_len > tries or sets_at + sets_len > sets:
            shards = []
            break
    if not shards:
        raise CarineError(f"index {path} is corrupt: its domain shards do not fit its sections",
                          f"compile it again: carine filter compile --lists DIR --out {path}")
    return shards


def _set_ids(view: memoryview) -> memoryview:
    """A uint16 array as stored (little-endian), without copying it on little-endian hosts."""
    if sys.byteorder == "little":
        return view.cast("H")
    swapped = array("H", view.tobytes())
    swapped.byteswap()
    return memoryview(swapped)


class Index:
    """A compiled index, mapped read-only. Lookups return shared frozensets: never mutate them."""

    categories: tuple[str, ...]
    meta: dict[str, Any]

    def __init__(self, path: Path, mapped: Mapped) -> None:
        """Use Index.open."""
        self.path = path
        self._mapped = mapped
        header = mapped.header
        self.meta = header
        self.categories = tuple(header["categories"])
        self.aliases: dict[str, str] = dict(header.get("aliases", {}))
        # One frozenset per category set, built once: a lookup allocates nothing.
        self._sets = tuple(frozenset(self.categories[i] for i in members)
                           for members in header["category_sets"])
        self._views = [mapped.section(name) for name in
                       ("domain_trie", "domain_sets", "url_trie", "url_sets")]
        # The sites filter, for the compiled lane (an index compiled without it has none).
        self._sites = mapped.section(SECTION) if SECTION in header["sections"] else None
        self.shards = _shards(path, mapped)
        self._shard_views = [(self._views[0][a:a + b], self._views[1][c:c + d])
                             for a, b, c, d in self.shards]
        # in place: no copy
        self._domains = [marisa_trie.Trie().map(trie) for trie, _ in self._shard_views]
        self._urls = marisa_trie.Trie().map(self._views[2])
        self._domain_sets = [_set_ids(ids) for _, ids in self._shard_views]
        self._url_sets = _set_ids(self._views[3])
        self._domain_prefixes = [trie.iter_prefixes_with_ids for trie in self._domains]
        self._url_prefixes = self._urls.iter_prefixes_with_ids
        self._unions: dict[tuple[frozenset[str], ...], frozenset[str]] = {}
        self._expressions: list[tuple[re.Pattern[str], frozenset[str]]] | None = None
        self._wanted: frozenset[str] | None = None
        self._lanes: list[FastLane] = []
        self._inode = os.fstat(mapped.file.fileno()).st_ino

    @classmethod
    def open(cls, path: Path, *, verify: bool = True) -> Index:
        """Map and check the index at ``path``; CarineError if missing, corrupt or too new.

        ``verify`` reads every page once for the checksum (about 0.1 s per 100 MB)."""
        return cls(path, map_index(path, verify))

    def _union(self, found: tuple[frozenset[str], ...]) -> frozenset[str]:
        """Categories of several matching entries (a domain and its listed parent), cached."""
        union = self._unions.get(found)
        if union is None:
            if len(self._unions) > 4096:
                self._unions.clear()  # only pathological lists reach this
            union = self._unions[found] = frozenset().union(*found)
        return union

    def _host(self, host: str) -> str | None:
        """A requested host in normal form, or None for a name that cannot exist."""
        try:
            return normalise_domain(host)
        except Malformed:
            return None

    def domain_categories(self, host: str) -> frozenset[str]:
        """Categories of ``host`` (no port): its own entry and those of its parent domains."""
        if not host.isascii() or host[-1:] in _SLOW_ENDINGS:
            normal = self._host(host)
            if normal is None:
                return EMPTY
            host = normal
        # The Squid helper's hot path: domain_key inlined, one C call finds every listed parent;
        # a plain loop, as most hosts match nothing and the rest one entry.
        key = ".".join(host.lower().split(".")[::-1]) + "."
        shard = shard_of(key, len(self._domain_prefixes))
        found, sets, ids = EMPTY, self._sets, self._domain_sets[shard]
        for _, key_id in self._domain_prefixes[shard](key):
            found = sets[ids[key_id]] if found is EMPTY else self._union((found, sets[ids[key_id]]))
        return found

    def url_categories(self, host: str, path: str) -> frozenset[str]:
        """Categories of URL entries that are a prefix of ``host`` + ``path`` (squidGuard)."""
        normal = self._host(host)
        if normal is None:
            return EMPTY
        found, sets, ids = EMPTY, self._sets, self._url_sets
        for _, key_id in self._url_prefixes(url_key(normal, path)):
            found = sets[ids[key_id]] if found is EMPTY else self._union((found, sets[ids[key_id]]))
        return found

    def consider(self, categories: frozenset[str]) -> None:
        """Run only the expressions of ``categories`` in ``lookup`` (those a policy can use:
        a match in any other category would change no decision)."""
        self._wanted, self._expressions = categories, None

    def _compiled(self) -> list[tuple[re.Pattern[str], frozenset[str]]]:
        """One search per category, compiled at first use. (One search over every category
        measured slower: it loses the literal-prefix scans that re does for each pattern.)"""
        if self._expressions is None:
            wanted = self._wanted
            self._expressions = [(combine_expressions(patterns), frozenset([name]))
                                 for name, patterns in sorted(self.meta["expressions"].items())
                                 if wanted is None or name in wanted]
        return self._expressions

    def expression_categories(self, url: str) -> frozenset[str]:
        """Categories whose expressions match ``url`` (its scheme, if any, is ignored)."""
        text = strip_scheme(url)
        found = tuple(names for pattern, names in self._compiled() if pattern.search(text))
        if not found:
            return EMPTY
        return found[0] if len(found) == 1 else self._union(found)

    def fast_lane(self, relevant: frozenset[str]) -> FastLane | None:
        """A compiled lane over this index for the ``relevant`` categories (see
        filtering.fastpath); it lives until the index is closed. None when unavailable."""
        expressions = {name: combined_pattern(patterns)
                       for name, patterns in self.meta["expressions"].items()}
        lane = FastLane.build((self._views[0], self._views[1], self._views[2], self._views[3]),
                              self._sets, expressions, relevant, self.shards, self._sites)
        if lane is not None:
            self._lanes.append(lane)
        return lane

    def host_categories(self, host: str) -> tuple[frozenset[str], bool]:
        """(categories of ``host``'s domain entries, whether any URL entry lies under it): what
        every request to ``host`` shares, whatever its path."""
        domain = self.domain_categories(host)  # first: raises once the index is closed
        normal = self._host(host)
        return domain, normal is not None and \
            next(self._urls.iterkeys(url_key(normal, "/")), None) is not None

    def path_categories(self, host: str, path: str | None, has_urls: bool = True) -> frozenset[str]:
        """Categories of the URL entries (only if ``has_urls``, see host_categories) and
        expressions (see ``consider``) matching ``host`` + ``path``."""
        urls = self.url_categories(host, path or "") if has_urls else EMPTY
        text = host + path if path else host  # no scheme to strip: the helper's hot path
        found = EMPTY
        for pattern, names in self._compiled():
            if pattern.search(text):
                found = names if found is EMPTY else self._union((found, names))
        if not urls:
            return found
        return urls if not found else self._union((urls, found))

    def lookup(self, host: str, path: str | None = None) -> frozenset[str]:
        """Every category of a request: domains, URL entries, expressions (see ``consider``).
        Without ``path`` (HTTPS, seen by name only) URL entries count for the site's root only."""
        domain, has_urls = self.host_categories(host)
        extra = self.path_categories(host, path, has_urls)
        if not extra:
            return domain
        return extra if not domain else self._union((domain, extra))

    def domains(self, categories: Iterable[str]) -> Iterator[str]:
        """Every listed domain in one of ``categories`` (for the DNS views' refused names)."""
        wanted = frozenset(categories)
        hit = [bool(members & wanted) for members in self._sets]
        for shard, (trie, ids) in enumerate(zip(self._domains, self._domain_sets, strict=True)):
            for key, key_id in trie.iteritems():
                # One-label keys are in every shard: named once, from the first.
                if hit[ids[key_id]] and (shard == 0 or key.count(".") > 1):
                    yield ".".join(key[:-1].split(".")[::-1])

    def changed(self) -> bool:
        """Whether the file at our path is no longer the one we mapped (a new compile)."""
        try:
            return self.path.stat().st_ino != self._inode
        except OSError:
            return True

    def close(self) -> None:
        """Unmap the index; lookups after this raise CarineError. Closing twice is harmless."""
        if self._mapped.map.closed:
            return
        for lane in self._lanes:  # they hold the sections too
            lane.close()
        self._lanes.clear()
        self._domain_prefixes = [_closed] * len(self._domain_prefixes)
        self._url_prefixes = _closed
        del self._domains, self._urls  # they hold views of the map
        if self._sites is not None:
            self._sites.release()
        for view in (*self._domain_sets, self._url_sets,
                     *(part for pair in self._shard_views for part in pair),
                     *self._views, self._mapped.data):
            view.release()
        self._mapped.map.close()
        self._mapped.file.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
