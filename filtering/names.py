"""Normal forms of list entries and requests: domains, squidGuard URLs, POSIX expressions.

The compiler and the index both use these, so an entry and a request always meet in one form."""

from __future__ import annotations

import re
import warnings

import idna

# UT1 names break RFC 1123 in one common way (underscores), so labels are a-z0-9_- here.
_NAME = re.compile(r"[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_WWW = re.compile(r"www\d*\.")
_PORT = re.compile(r":\d{1,5}$")
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"  # no leading zeros: they would read as octal
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")
_NOT_URL = re.compile(r"[\s\x00-\x1f\x7f]")
# POSIX bracket classes have no Python spelling; everything else in UT1's ERE is compatible.
_POSIX_CLASSES = {
    "[:alpha:]": "a-zA-Z", "[:digit:]": "0-9", "[:alnum:]": "a-zA-Z0-9", "[:upper:]": "A-Z",
    "[:lower:]": "a-z", "[:space:]": r"\s", "[:blank:]": r" \t", "[:xdigit:]": "0-9A-Fa-f",
    "[:punct:]": r"!-/:-@\[-`{-~", "[:word:]": r"\w",
}
_POSIX_CLASS = re.compile("|".join(re.escape(name) for name in _POSIX_CLASSES))


class Malformed(ValueError):
    """A list line that is not an entry; the message says why (kept for the compile report)."""


def _idna_ascii(name: str) -> str:
    """A unicode name in its punycode form, label by label so that UT1's underscores survive
    (IDNA 2008 refuses ``_`` in a label, and whole-name encoding would refuse the name)."""
    try:
        mapped = idna.uts46_remap(name, std3_rules=False, transitional=False)
        return ".".join(
            label if label.isascii() else idna.alabel(label).decode("ascii")
            for label in mapped.split(".")
        )
    except (idna.IDNAError, UnicodeError) as exc:
        raise Malformed(f"not a valid international name ({exc})") from exc


def normalise_domain(text: str) -> str:
    """The normal form of a domain entry or requested host; raise Malformed if it is none.

    Lowercase, no trailing dot, no leading ``*.`` or ``.``, punycode; IPv4 addresses accepted."""
    if _NAME.fullmatch(text) and len(text) <= 253 and not text[-1].isdigit():
        return text  # already normal: most lines of a UT1 file, 5 million of them at scale
    name = text.strip().lower()
    name = name.removesuffix(".")
    name = name[2:] if name.startswith("*.") else name.removeprefix(".")
    if not name.isascii():
        name = _idna_ascii(name)
    if len(name) > 253 or not _NAME.fullmatch(name):
        raise Malformed("not a domain name")
    # A numeric last label is never a TLD: the name must be a whole IPv4 address, so that an
    # address entry can only ever match itself (see domain_key).
    if name.rpartition(".")[2].isdigit() and not _IPV4.fullmatch(name):
        raise Malformed("neither a domain name nor an IPv4 address")
    return name


def domain_key(name: str) -> str:
    """The trie key of a normalised name: labels reversed, then a dot.

    ``www.example.com`` -> ``com.example.www.``: a listed domain is then a prefix of the key of
    each of its subdomains, and the final dot keeps ``example.com`` off ``badexample.com``."""
    return ".".join(name.split(".")[::-1]) + "."


def strip_www(host: str) -> str:
    """squidGuard's host form for URL lists: without a leading ``www.`` or ``wwwN.``."""
    match = _WWW.match(host)
    # "www.com" keeps its name: stripping would leave a bare TLD.
    if match and "." in host[match.end():]:
        return host[match.end():]
    return host


def normalise_url(text: str) -> str:
    """The normal form of a URL entry: ``host/path``, squidGuard style; raise Malformed.

    No scheme, no port, host normalised and without ``www.``, path kept as written (case too)."""
    url = text.strip()
    if not url or _NOT_URL.search(url):
        raise Malformed("not a URL (spaces or control characters)")
    scheme = _SCHEME.match(url)
    if scheme:
        url = url[scheme.end():]
    host, _, path = url.partition("/")
    host = _PORT.sub("", host.rpartition("@")[2])
    return strip_www(normalise_domain(host)) + "/" + path


def url_key(host: str, path: str) -> str:
    """The key of a requested URL in the URL trie (host already normalised by normalise_domain);
    an empty path is the root, as in ``http://example.com``."""
    return strip_www(host) + (path or "/")


def strip_scheme(url: str) -> str:
    """A URL without its scheme: the text that expressions are matched against."""
    scheme = _SCHEME.match(url)
    return url[scheme.end():] if scheme else url


def translate_expression(pattern: str) -> str:
    """A UT1 expression (POSIX ERE) as a Python pattern; raise Malformed if it does not compile.

    A leading or trailing ``.*`` is dropped: for an unanchored search it changes nothing, and
    it would make each search quadratic in the length of the URL."""
    text = _POSIX_CLASS.sub(lambda m: _POSIX_CLASSES[m.group()], pattern.strip())
    while text.startswith(".*"):
        text = text[2:]
    while text.endswith(".*") and not text.endswith("\\.*"):
        text = text[:-2]
    if not text:
        raise Malformed("an empty expression would match every URL")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "possible nested set": compiles, same meaning
            # Compiled as it will be combined, so that the combination never fails at open time.
            re.compile(f"(?:{text})")
    except (re.error, RecursionError, OverflowError) as exc:
        raise Malformed(f"not a regular expression ({exc})") from exc
    return text


def combined_pattern(patterns: list[str]) -> str:
    """A category's patterns (already translated) as one alternation."""
    return "|".join(f"(?:{p})" for p in patterns)


def combine_expressions(patterns: list[str]) -> re.Pattern[str]:
    """One compiled search for a category's patterns (already translated), case-insensitive:
    UT1 writes them in lowercase while paths keep the request's case. (The helper's compiled
    lane searches the same alternation with PCRE2, caseless.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return re.compile(combined_pattern(patterns), re.IGNORECASE)
