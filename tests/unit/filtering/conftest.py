"""Fixtures for the list compiler and the index: small UT1 trees written by the tests, and the
real UT1 subset extracted once per session (its index compiled once too)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from filtering.archive import unpack
from filtering.index import Index, compile_lists
from filtering.report import CompileReport
from tests.conftest import in_ci

# shared/ lies beside the clone (as in CI); CARINE_UT1_SUBSET points elsewhere if needed.
_BESIDE = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ut1-subset.tar.xz"
UT1_SUBSET = Path(os.environ.get("CARINE_UT1_SUBSET", str(_BESIDE)))

Tree = dict[str, dict[str, str | bytes]]


def write_tree(root: Path, tree: Tree) -> Path:
    """Write ``{category: {file: text}}`` as a UT1 tree under ``root/blacklists``."""
    for category, files in tree.items():
        folder = root / "blacklists" / category
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            (folder / name).write_bytes(data)
    return root


@pytest.fixture
def make_index(tmp_path: Path) -> Iterator[Callable[[Tree], Index]]:
    """Compile a small tree into an index and open it (closed after the test)."""
    opened: list[Index] = []

    def make(tree: Tree) -> Index:
        lists = write_tree(tmp_path / f"lists{len(opened)}", tree)
        out = tmp_path / f"index{len(opened)}.cidx"
        compile_lists(lists, out)
        opened.append(Index.open(out))
        return opened[-1]

    yield make
    for index in opened:
        index.close()


@pytest.fixture(scope="session")
def ut1_subset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real UT1 subset, extracted (it holds blacklists/)."""
    if not UT1_SUBSET.is_file():
        reason = f"{UT1_SUBSET} is missing (set CARINE_UT1_SUBSET)"
        if in_ci():
            pytest.fail(f"{reason} (CI=true: a test may not be skipped in CI)", pytrace=False)
        pytest.skip(reason)
    # Our own safe unpacking: Debian's Python 3.11.2 has no tarfile extraction filters.
    return unpack(UT1_SUBSET, tmp_path_factory.mktemp("ut1"))


@pytest.fixture(scope="session")
def ut1_compiled(ut1_subset: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CompileReport]:
    """The real subset compiled (about 3 s): the index file and the report."""
    out = tmp_path_factory.mktemp("ut1-index") / "ut1.cidx"
    return out, compile_lists(ut1_subset, out, source="UT1 subset (tests)")


@pytest.fixture(scope="session")
def ut1_index(ut1_compiled: tuple[Path, CompileReport]) -> Path:
    return ut1_compiled[0]
