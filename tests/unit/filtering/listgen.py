"""Small UT1 trees and their .tar.gz archives, with a chosen number of domains per category
(the list update tests need categories above the 1000-domain shrink threshold)."""

from __future__ import annotations

import tarfile
from pathlib import Path


def ut1_tree(root: Path, counts: dict[str, int], salt: str = "a") -> Path:
    """``root/blacklists/<category>/domains`` with ``counts[category]`` domains; ``salt`` changes
    the names, so two trees with the same counts are different lists."""
    for category, count in counts.items():
        folder = root / "blacklists" / category
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "domains").write_text(
            "".join(f"{category}-{salt}{i}.example\n" for i in range(count)), encoding="utf-8")
    return root


def ut1_archive(root: Path, counts: dict[str, int], salt: str = "a",
                name: str = "blacklists.tar.gz") -> Path:
    """The tree packed as UT1 publishes it (blacklists/ at the top of a .tar.gz)."""
    tree = ut1_tree(root / "tree", counts, salt)
    out = root / name
    with tarfile.open(out, "w:gz") as tar:
        tar.add(tree / "blacklists", arcname="blacklists")
    return out
