"""Merkle trees over a segment's record hashes (RFC 6962 hashing, 0x00 leaves, 0x01 nodes): the
seal keeps the root, and an export proves each of its records with a short path to that root."""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").digest()


def _levels(leaves: bytes) -> list[bytes]:
    """Every level of the tree, leaves first, each as concatenated 32-byte hashes.

    Pairs are hashed left to right and an odd last node moves up unchanged, which gives the
    same root as RFC 6962's recursive split."""
    sha = hashlib.sha256
    level = b"".join(sha(b"\x00" + leaves[i:i + 32]).digest() for i in range(0, len(leaves), 32))
    levels = [level]
    while len(level) > 32:
        nodes = [sha(b"\x01" + level[i:i + 64]).digest() for i in range(0, len(level) - 32, 64)]
        if (len(level) // 32) % 2:
            nodes.append(level[-32:])
        level = b"".join(nodes)
        levels.append(level)
    return levels


def root(leaves: bytes) -> bytes:
    """The root over ``leaves`` (concatenated 32-byte record hashes)."""
    if not leaves:
        return EMPTY_ROOT
    return _levels(leaves)[-1]


def paths(leaves: bytes, indexes: list[int]) -> dict[int, list[bytes]]:
    """The audit path of each leaf index (0-based): the sibling hashes from the leaf upwards."""
    levels = _levels(leaves)
    out: dict[int, list[bytes]] = {}
    for index in indexes:
        path: list[bytes] = []
        i = index
        for level in levels[:-1]:
            size = len(level) // 32
            sibling = i ^ 1
            if sibling < size:
                path.append(level[sibling * 32:sibling * 32 + 32])
            i //= 2
        out[index] = path
    return out


def root_from_path(leaf: bytes, index: int, size: int, path: list[bytes]) -> bytes:
    """Recompute the root from one leaf and its audit path (what an export's verifier does)."""
    sha = hashlib.sha256
    node = sha(b"\x00" + leaf).digest()
    rest = list(path)
    while size > 1:
        if index % 2:
            node = sha(b"\x01" + rest.pop(0) + node).digest()
        elif index + 1 < size:
            node = sha(b"\x01" + node + rest.pop(0)).digest()
        index //= 2
        size = (size + 1) // 2
    if rest:
        raise ValueError("audit path longer than the tree")
    return node
