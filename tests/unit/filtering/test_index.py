"""List semantics through the compiled index, as tables: a domain matches itself and its
subdomains (never a mere suffix), URLs match by prefix (squidGuard), expressions, IDN, IPs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from filtering.index import EMPTY, Index
from tests.unit.filtering.conftest import Tree

pytestmark = pytest.mark.unit

TREE: Tree = {
    "games": {
        "domains": "example.com\njeux.fr\nbücher.de\nxn--caf-dma.fr\n192.0.2.7\n",
        "urls": "www.site.fr/jeux\nportal.org/games/\nwhole.net\n",
    },
    "shopping": {"domains": "shop.jeux.fr\nboth.fr\n", "urls": "site.fr/jeux/shop\n"},
    "gambling": {"domains": "both.fr\n"},
    "adult": {"expressions": "(/sexe/|xxx[0-9]+)\n"},
    "publicite": {"expressions": "/banner/\n"},
}


@pytest.fixture
def index(make_index: Callable[[Tree], Index]) -> Index:
    return make_index(TREE)


@pytest.mark.parametrize(("host", "categories"), [
    ("example.com", {"games"}),
    ("www.example.com", {"games"}),  # a domain matches its subdomains
    ("a.b.c.example.com", {"games"}),
    ("badexample.com", set()),  # ... but not a name that merely ends like it
    ("example.com.evil.net", set()),
    ("example.co", set()),
    ("com", set()),
    ("WWW.Example.COM", {"games"}),
    ("example.com.", {"games"}),  # a fully qualified name
    ("shop.jeux.fr", {"games", "shopping"}),  # listed itself and under a listed parent
    ("cdn.shop.jeux.fr", {"games", "shopping"}),
    ("other.jeux.fr", {"games"}),
    ("both.fr", {"shopping", "gambling"}),  # one entry in two categories
    ("bücher.de", {"games"}),  # IDN: unicode request, unicode entry
    ("xn--bcher-kva.de", {"games"}),  # punycode request
    ("café.fr", {"games"}),  # unicode request, punycode entry
    ("www.café.fr", {"games"}),
    ("192.0.2.7", {"games"}),  # IPv4 addresses are entries too
    ("192.0.2.70", set()),
    ("1.192.0.2.7", set()),
    ("", set()),
    ("ex ample.com", set()),
    ("\udcff.example.com", set()),  # a name that cannot be encoded is not listed
])
def test_domains(index: Index, host: str, categories: set[str]) -> None:
    assert index.domain_categories(host) == categories


@pytest.mark.parametrize(("host", "path", "categories"), [
    ("site.fr", "/jeux", {"games"}),
    ("site.fr", "/jeux/tetris.html", {"games"}),
    ("www.site.fr", "/jeux/x", {"games"}),  # www. is stripped on both sides
    ("www3.site.fr", "/jeux/x", {"games"}),
    ("site.fr", "/jeuxvideo", {"games"}),  # a prefix, as squidGuard matches
    ("site.fr", "/jeu", set()),
    ("site.fr", "/Jeux", set()),  # paths keep their case
    ("site.fr", "/", set()),
    ("sub.site.fr", "/jeux", set()),  # URL entries are for their host only
    ("site.fr", "/jeux/shop/cart", {"games", "shopping"}),  # nested URL entries add up
    ("portal.org", "/games/", {"games"}),
    ("portal.org", "/games", set()),
    ("whole.net", "/anything", {"games"}),  # an entry without a path is the whole site
    ("whole.net", "", {"games"}),  # an empty path is the root
    ("whole.network", "/x", set()),
    ("WWW.SITE.FR", "/jeux", {"games"}),
])
def test_urls(index: Index, host: str, path: str, categories: set[str]) -> None:
    assert index.url_categories(host, path) == categories


@pytest.mark.parametrize(("url", "categories"), [
    ("example.org/sexe/page", {"adult"}),
    ("http://example.org/SEXE/page", {"adult"}),  # scheme ignored, case-insensitive
    ("example.org/xxx42", {"adult"}),
    ("ads.example.org/banner/1.gif", {"publicite"}),
    ("ads.example.org/banner/sexe/", {"adult", "publicite"}),
    ("example.org/sexy", set()),
])
def test_expressions(index: Index, url: str, categories: set[str]) -> None:
    assert index.expression_categories(url) == categories


@pytest.mark.parametrize(("host", "path", "categories"), [
    ("www.example.com", "/sexe/", {"games", "adult"}),
    ("www.site.fr", "/jeux/x", {"games"}),
    ("site.fr", None, set()),  # HTTPS: the path is unknown, URL entries deeper than / don't count
    ("whole.net", None, {"games"}),
    ("xxx99.net", None, {"adult"}),  # expressions see the host alone then
    ("nothing.fr", "/", set()),
])
def test_lookup_is_the_union(index: Index, host: str, path: str | None,
                             categories: set[str]) -> None:
    assert index.lookup(host, path) == categories


def test_lookups_return_shared_sets(index: Index) -> None:
    assert index.domain_categories("a.example.com") is index.domain_categories("example.com")
    assert index.domain_categories("shop.jeux.fr") is index.domain_categories("x.shop.jeux.fr")
    assert index.lookup("nothing.fr", "/") is EMPTY


def test_header(index: Index) -> None:
    assert index.categories == ("adult", "gambling", "games", "publicite", "shopping")
    meta = index.meta
    assert meta["format"] == 2
    assert len(meta["domain_shards"]) == 1  # small lists: one domain trie
    assert meta["created"].endswith("+00:00")
    assert meta["counts"]["domains"] == 7  # both.fr once, with two categories
    assert meta["counts"]["urls"] == 4
    assert meta["counts"]["expressions"] == 2
    assert meta["counts"]["entries"]["games"] == {"domains": 5, "urls": 3}
    assert meta["expressions"]["publicite"] == ["/banner/"]
    assert len(meta["sha256"]) == 64


def test_closed_index_refuses_lookups(index: Index) -> None:
    index.close()
    with pytest.raises(Exception, match="closed"):
        index.domain_categories("example.com")
    with pytest.raises(Exception, match="closed"):
        index.url_categories("site.fr", "/jeux")
