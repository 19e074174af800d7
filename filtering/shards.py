"""How the domain trie is cut into shards so that a compile stays in bounded memory: a domain
key goes to the shard of its first two labels (``com.example.``); one-label keys go to all.

marisa's builder holds about 110 bytes per key, so 5 million domains in one trie peak near
600 MiB; shards of at most 600,000 keys are built one after the other. A lookup still makes
one prefix search: every listed parent of ``com.example.www.`` (``com.example.`` and the
one-label ``com.``) lies in the shard of ``com.example.``. The C++ lane (filtering/_fastpath.cpp,
``shard_of``) computes the same CRC-32, and small lists keep a single shard (no hashing)."""

from __future__ import annotations

import zlib

MAX_SHARD_KEYS = 600_000


def shard_count(keys: int) -> int:
    """Shards for about ``keys`` distinct domain keys (one for small lists)."""
    return max(1, -(-keys // MAX_SHARD_KEYS))


def site_of(key: str) -> str | None:
    """The first two labels of a domain key (``com.example.`` of ``com.example.www.``), or
    None for a one-label key (``com.``), which every shard holds."""
    first = key.find(".")
    second = key.find(".", first + 1)
    return None if second < 0 else key[:second + 1]


def shard_of(key: str, count: int) -> int:
    """The shard holding ``key`` and every listed parent of it (the CRC-32 of its first two
    labels, as zlib computes it); a one-label key is looked up in shard 0."""
    if count == 1:
        return 0
    site = site_of(key)
    return 0 if site is None else zlib.crc32(site.encode()) % count
