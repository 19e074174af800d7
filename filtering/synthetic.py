"""A UT1 tree at production scale for benchmarks: the real lists plus synthetic domains of
realistic shape added to one category, the same ones for the same seed."""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import CarineError
from filtering.lists import find_tree

_ONSETS = ("b", "c", "d", "f", "g", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
           "ch", "br", "tr", "gr", "pl", "st", "x", "h", "w", "y")
_VOWELS = ("a", "e", "i", "o", "u", "ou", "ai", "y", "ea", "io")
_CODAS = ("", "", "", "n", "r", "s", "x", "l", "m", "t")
SYLLABLES = tuple(o + v + c for o in _ONSETS for v in _VOWELS for c in _CODAS)
# Weighted like a real adult list: mostly .com, then European and cheap TLDs.
_TLDS = (("com", 40), ("net", 9), ("fr", 8), ("org", 5), ("xyz", 5), ("de", 4), ("ru", 4),
         ("info", 4), ("io", 3), ("co.uk", 3), ("com.br", 3), ("eu", 2), ("be", 2), ("es", 2),
         ("it", 2), ("nl", 2), ("tv", 1), ("cam", 1))
TLDS = tuple(t for t, _ in _TLDS)
TLD_WEIGHTS = tuple(w for _, w in _TLDS)
SUBDOMAINS = ("www", "m", "fr", "en", "video", "videos", "cdn", "img", "live", "shop", "blog",
              "static", "members")


@dataclass(frozen=True)
class Synthesis:
    """What was written: the tree, its real domain lines and the synthetic ones added."""

    tree: Path
    real: int
    added: int
    category: str


def synthetic_domain(rng: random.Random) -> str:
    """One made-up domain: pronounceable label(s), maybe digits or a hyphen, maybe a subdomain."""
    label = "".join(rng.choices(SYLLABLES, k=rng.randint(2, 4)))
    shape = rng.random()
    if shape < 0.12:
        label += str(rng.randint(1, 2099))
    elif shape < 0.22:
        label += "-" + "".join(rng.choices(SYLLABLES, k=rng.randint(1, 3)))
    name = f"{label}.{rng.choices(TLDS, TLD_WEIGHTS)[0]}"
    sub = rng.random()
    if sub < 0.12:
        return f"{rng.choice(SUBDOMAINS)}.{name}"
    if sub < 0.18:
        return f"{''.join(rng.choices(SYLLABLES, k=2))}.{name}"
    return name


def _domain_lines(root: Path) -> int:
    """Entries (not blank, not comments) of every domains file of the tree."""
    total = 0
    for path in root.glob("*/domains"):
        with path.open("rb") as lines:
            total += sum(1 for line in lines if line.strip() and not line.startswith(b"#"))
    return total


def _ends_with_newline(path: Path) -> bool:
    """Whether appending lines to ``path`` starts a new line (true for a missing or empty file)."""
    if not path.exists() or path.stat().st_size == 0:
        return True
    with path.open("rb") as data:
        data.seek(-1, 2)
        return data.read(1) == b"\n"


def synthesise(lists: Path, out: Path, domains: int, category: str = "adult",
               seed: int = 0) -> Synthesis:
    """Copy the UT1 tree at ``lists`` to ``out/blacklists`` and add synthetic domains to
    ``category`` until the tree holds ``domains`` domain lines (none if it already does)."""
    root = find_tree(lists)
    if out.exists() and any(out.iterdir()):
        raise CarineError(f"{out} exists and is not empty", "give a new directory for the tree")
    if not category or "/" in category or category.startswith("."):
        raise CarineError(f"{category!r} is not a category name", "e.g. --category adult")
    tree = out / "blacklists"
    try:
        shutil.copytree(root, tree, symlinks=True)
    except OSError as exc:
        raise CarineError(f"cannot copy {root} to {tree}: {exc}") from exc
    real = _domain_lines(tree)
    wanted = max(domains - real, 0)
    target = tree / category / "domains"
    target.parent.mkdir(exist_ok=True)
    ends_clean = _ends_with_newline(target)
    rng = random.Random(seed)  # noqa: S311  # benchmark data, not secrets: a seed repeats it
    seen: set[str] = set()  # distinct names, so the tree really holds ``domains`` of them
    with target.open("a", encoding="ascii") as lines:
        if not ends_clean:
            lines.write("\n")
        while len(seen) < wanted:
            name = synthetic_domain(rng)
            if name not in seen:
                seen.add(name)
                lines.write(name + "\n")
    return Synthesis(tree, real, wanted, category)
