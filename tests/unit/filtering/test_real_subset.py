"""The real UT1 subset compiles, every line is accounted for, and real entries are found.

The entries checked are read from the files here, not written down, so a new subset still
passes; the subset is extracted and compiled once per session (about 3 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from filtering.index import Index
from filtering.names import normalise_domain
from filtering.report import CompileReport

pytestmark = pytest.mark.unit


def _entries(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def index(ut1_index: Path) -> Iterator[Index]:
    with Index.open(ut1_index) as opened:
        yield opened


def test_every_line_is_counted(ut1_subset: Path,
                               ut1_compiled: tuple[Path, CompileReport]) -> None:
    root = ut1_subset / "blacklists"
    report = ut1_compiled[1]
    assert len(report.categories) > 60
    assert report.aliases["porn"] == "adult"
    for kind in ("domains", "urls"):
        lines = sum(len(p.read_text(encoding="utf-8", errors="replace").splitlines())
                    for p in root.glob(f"*/{kind}"))
        total = report.total(kind)
        assert total.entries + total.comments + total.blank + total.malformed == lines
        assert total.entries > 0


def test_header_of_the_real_index(index: Index) -> None:
    assert "games" in index.categories and "adult" in index.categories
    assert index.meta["source"] == "UT1 subset (tests)"
    assert index.meta["counts"]["domains"] > 300_000
    assert index.meta["counts"]["urls"] > 20_000


@pytest.mark.parametrize("category", ["games", "gambling", "shopping", "vpn", "doh"])
def test_real_domains_are_found(index: Index, ut1_subset: Path, category: str) -> None:
    entries = _entries(ut1_subset / "blacklists" / category / "domains")
    for line in (entries[0], entries[len(entries) // 2], entries[-1]):
        name = normalise_domain(line)
        assert category in index.domain_categories(name), name
        assert category in index.domain_categories(f"deep.sub.{name}"), name
        assert category in index.lookup(name, "/"), name


@pytest.mark.parametrize("category", ["adult", "games", "phishing"])
def test_real_urls_are_found(index: Index, ut1_subset: Path, category: str) -> None:
    for line in _entries(ut1_subset / "blacklists" / category / "urls")[:20]:
        host, _, path = line.partition("/")
        assert category in index.url_categories(host, f"/{path}x"), line


def test_real_expressions(index: Index, ut1_subset: Path) -> None:
    assert _entries(ut1_subset / "blacklists" / "strong_redirector" / "expressions")
    assert "strong_redirector" in index.lookup("images.google.fr", "/images?hl=fr&q=porn")
    assert "publicite" in index.lookup("cdn.example.org", "/banner/top.gif")
    assert "publicite" not in index.lookup("cdn.example.org", "/bannerman")


def test_white_lists_are_categories_too(index: Index) -> None:
    assert index.lookup("www.education.gouv.fr", "/") == {"liste_blanche", "liste_bu"}
    assert index.lookup("www.lycee-perrin.example", "/") == frozenset()
