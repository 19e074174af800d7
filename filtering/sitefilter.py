"""The sites filter the compiler writes into the index beside the domain trie: a Bloom filter of
every domain key's site (``com.example.``) and one-label key, read by the compiled lane.

A name whose site and one-label key are both absent is listed nowhere, so the lane skips its trie
walk (most names asked are listed nowhere). Built by the compiled module (filtering/_fastpath.cpp
holds the hash); an index compiled without that module has no filter, and the lane walks."""

from __future__ import annotations

from typing import Any

from filtering.fastpath import native_module

SECTION = "domain_sites"
BITS_PER_SITE = 12  # about 0.3 % false positives with 7 bits set in 512-bit blocks
BLOCK = 64  # bytes
_BATCH = 1 << 16  # sites handed to the compiled module at once


class SiteFilter:
    """A filter sized for at most ``sites`` sites; ``add`` each key's site, then ``data``."""

    def __init__(self, sites: int, native: Any | None = None) -> None:
        self._native = native if native is not None else native_module()
        blocks = max(1, -(-sites * BITS_PER_SITE // (8 * BLOCK)))
        self._data = bytearray(blocks * BLOCK) if self._native is not None else None
        self._pending: list[bytes] = []
        self._last = ""

    def add(self, site: str) -> None:
        """Add ``site`` (keys come sorted: a site's keys are consecutive, added once)."""
        if self._data is None or site == self._last:
            return
        self._last = site
        self._pending.append(site.encode())
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending and self._native is not None:
            self._native.add_sites(self._data, b"\n".join(self._pending))
        self._pending.clear()

    def data(self) -> bytes | None:
        """The filter's bytes (None without the compiled module: the index then has none)."""
        self._flush()
        return None if self._data is None else bytes(self._data)
