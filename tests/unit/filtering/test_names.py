"""Normal forms of list entries and requests, as tables: domains, squidGuard URLs, expressions."""

from __future__ import annotations

import re

import pytest

from filtering.names import (
    Malformed,
    domain_key,
    normalise_domain,
    normalise_url,
    strip_www,
    translate_expression,
    url_key,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("line", "normal"), [
    ("example.com", "example.com"),
    ("  Example.COM.  ", "example.com"),
    ("*.example.com", "example.com"),
    (".example.com", "example.com"),
    ("hard_sexe.x-film.us", "hard_sexe.x-film.us"),  # UT1 has underscores
    ("bücher.de", "xn--bcher-kva.de"),
    ("BÜCHER.de", "xn--bcher-kva.de"),
    ("a_b.bücher.de", "a_b.xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("例え。テスト", "xn--r8jz45g.xn--zckzah"),  # ideographic full stop is a dot (UTS 46)
    ("192.0.2.7", "192.0.2.7"),
    ("a" * 63 + ".fr", "a" * 63 + ".fr"),
])
def test_domain_normal_forms(line: str, normal: str) -> None:
    assert normalise_domain(line) == normal


@pytest.mark.parametrize("line", [
    "", ".", "exa mple.com", "example..com", "a" * 64 + ".fr", ("a" * 60 + ".") * 5 + "fr",
    "example.com/path", "http://example.com", "exam!ple.com", "1.2.3", "256.1.1.1",
    "01.2.3.4", "10.0.0.1.5", "xn--ééé.com\u0378",
])
def test_domain_malformed(line: str) -> None:
    with pytest.raises(Malformed):
        normalise_domain(line)


def test_domain_key_reverses_labels_with_a_final_dot() -> None:
    assert domain_key("www.example.com") == "com.example.www."
    assert not domain_key("badexample.com").startswith(domain_key("example.com"))
    assert domain_key("a.example.com").startswith(domain_key("example.com"))


@pytest.mark.parametrize(("line", "normal"), [
    ("example.com/games", "example.com/games"),
    ("www.example.com/games", "example.com/games"),
    ("www2.example.com/games", "example.com/games"),
    ("www2s.biglobe.ne.jp/~million", "www2s.biglobe.ne.jp/~million"),  # not wwwN.
    ("wwwxxx.cam/fr/video", "wwwxxx.cam/fr/video"),
    ("http://WWW.Example.COM/Jeux/Index.HTML", "example.com/Jeux/Index.HTML"),  # path keeps case
    ("https://example.com:8443/x?q=1", "example.com/x?q=1"),
    ("example.com", "example.com/"),  # a bare host is the whole site, never a name prefix
    ("www.com/x", "www.com/x"),  # stripping would leave a bare TLD
    ("208.80.53.49/jeux", "208.80.53.49/jeux"),
    ("bücher.de/spiele", "xn--bcher-kva.de/spiele"),
])
def test_url_normal_forms(line: str, normal: str) -> None:
    assert normalise_url(line) == normal


@pytest.mark.parametrize("line", ["exa mple.com/x", "example.com/a b", "/path/only", "ex!.com/x",
                                  "example.com/\x01"])
def test_url_malformed(line: str) -> None:
    with pytest.raises(Malformed):
        normalise_url(line)


def test_requested_url_key() -> None:
    assert url_key("www.example.com", "/games/x") == "example.com/games/x"
    assert url_key("example.com", "") == "example.com/"
    assert strip_www("www3.example.com") == "example.com"


@pytest.mark.parametrize(("pattern", "text", "hit"), [
    (r"(/banner/|/sponsor/)", "ads.example.com/banner/1.gif", True),
    (r"(/banner/|/sponsor/)", "example.com/bannerman", False),
    (r".*/ymsgr*\.exe", "dl.example.com/files/ymsgr.exe", True),
    (r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/search\?q=[0-9]+$", "1.2.3.4/search?q=12", True),
    (r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/search\?q=[0-9]+$", "a.1.2.3.4/search?q=12", False),
    (r"sex[[:digit:]]+", "example.com/sex42", True),
    (r"[[:alpha:]]+casino", "example.com/bigcasino", True),
])
def test_expressions(pattern: str, text: str, hit: bool) -> None:
    assert bool(re.search(translate_expression(pattern), text, re.IGNORECASE)) is hit


@pytest.mark.parametrize("pattern", ["(unclosed", "a)b", "*a", ".*", "x\\", "(?i)a|(?s)b"])
def test_bad_expressions(pattern: str) -> None:
    with pytest.raises(Malformed):
        translate_expression(pattern)
