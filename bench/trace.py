"""A deterministic request trace from a UT1 tree, to replay through filtering helpers.

    .venv/bin/python bench/trace.py --lists TREE --out trace.txt [--requests 1000000] [--seed 0]

The same tree, seed and size always give the same file. Text, one request per line, four fields
separated by one space (none of them holds a space):

    CLIENT METHOD TARGET KIND

- CLIENT: the IPv4 address of a pupil's device (by default the example site's pedago zone);
- METHOD: GET, POST or HEAD (plain HTTP), CONNECT (HTTPS through the explicit proxy) or TLS
  (intercepted HTTPS: Squid knows the name from the SNI only, the request is a CONNECT to the
  server's address);
- TARGET: an absolute ``http://`` URL for HTTP, ``host:port`` for CONNECT and TLS;
- KIND: what the generator meant the request to be (the lists decide what it is):
  ``popular`` well-known hosts (the heavy hitters), ``domain`` a listed domain as written,
  ``sub`` a subdomain of a listed domain, ``url`` a URL-list entry with its path, ``miss`` an
  unlisted but plausible host, ``odd`` corners (port, trailing dot, IPv4, punycode, long or
  %-encoded paths, another case or host prefix on a URL entry).

Lines starting with ``#`` are comments (the first one records how the trace was made).

Skew: the distinct targets are ranked and drawn with Zipf weights 1/rank (s = 1), the popular
hosts first, so that a few hosts take most requests, as in a real proxy log."""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if __package__ in (None, ""):  # run as a script: import the repository, not bench/ siblings
    sys.path[0] = str(ROOT)

from filtering.lists import find_tree  # noqa: E402  # after the path fix above

KINDS = ("popular", "domain", "sub", "url", "miss", "odd")
# Share of the distinct targets of each kind (the requests follow, skewed by rank).
POOL_SHARES = {"domain": 0.17, "sub": 0.13, "url": 0.10, "miss": 0.55, "odd": 0.05}
HTTPS_SHARE = 0.70  # of hosts (not URL entries) reached over HTTPS
ZIPF_S = 1.0

POPULAR = (
    "www.google.com", "www.google.fr", "fonts.googleapis.com", "fonts.gstatic.com",
    "www.gstatic.com", "www.youtube.com", "i.ytimg.com", "fr.wikipedia.org",
    "upload.wikimedia.org", "www.education.gouv.fr", "educonnect.education.gouv.fr",
    "ent.auvergnerhonealpes.fr", "apps.education.fr", "gar.education.fr", "www.index-education.com",
    "login.microsoftonline.com", "www.office.com", "outlook.office365.com", "teams.microsoft.com",
    "www.bing.com", "www.qwant.com", "www.lumni.fr", "www.france.tv", "www.lemonde.fr",
    "www.larousse.fr", "www.wordreference.com", "www.deepl.com", "translate.google.com",
    "docs.google.com", "drive.google.com", "accounts.google.com", "www.instagram.com",
    "www.tiktok.com", "discord.com", "www.twitch.tv", "cdn.jsdelivr.net", "cdnjs.cloudflare.com",
    "ajax.googleapis.com", "safebrowsing.googleapis.com", "www.mozilla.org",
    "detectportal.firefox.com", "connectivitycheck.gstatic.com", "ocsp.digicert.com",
    "www.apple.com", "www.example.org",
)  # fmt: skip
# First words of unlisted names start with a vowel: the synthetic list generator
# (filtering/synthetic.py) starts every name with a consonant, so these never collide with it.
_FIRST = ("atelier", "avenir", "ecole", "espace", "etoile", "ile", "image", "info", "office",
          "union", "alpes", "azur", "orange", "ocean", "olive", "arc", "echo", "eden", "opale",
          "acces", "agora", "ambre", "univers", "objectif", "essor", "elan", "un", "aqua")
_SECOND = ("sport", "cuisine", "voyage", "musee", "jardin", "bureau", "sante", "auto", "immo",
           "media", "club", "lab", "tech", "web", "net", "shop", "info", "maths", "lycee",
           "college", "mairie", "theatre", "cinema", "radio", "presse", "velo", "nature",
           "habitat", "conseil", "services", "formation", "emploi", "culture", "histoire")
_TLDS = (("fr", 34), ("com", 30), ("org", 8), ("net", 6), ("eu", 4), ("de", 3), ("be", 3),
         ("ch", 2), ("io", 2), ("info", 2), ("es", 2), ("it", 2), ("co.uk", 2))
_SUBS = ("www", "m", "cdn", "img", "static", "api", "fr", "en", "video", "media", "shop", "blog")
_PATHS = ("/", "/index.html", "/favicon.ico", "/css/style.css", "/js/app.js?v={n}",
          "/images/logo.png", "/search?q=devoir+maths&page={n}", "/article/2026/11/rentree-{n}",
          "/api/v2/items?id={n}", "/wp-content/uploads/2026/05/photo-{n}.jpg", "/login",
          "/fr/actualites/", "/video/{n}", "/page/{n}/", "/static/fonts/font-{n}.woff2")
_IDN = ("école", "élève", "café", "crèche", "forêt", "théâtre", "musée", "goûter", "château")


@dataclass(frozen=True)
class Target:
    """One distinct thing a client asks for: a host (over HTTP or HTTPS) or a URL."""

    kind: str
    host: str  # as it appears in the request (may hold a port or a trailing dot)
    https: bool
    path: str = ""  # fixed path (URL entries, odd targets); empty: a path drawn per request


@dataclass(frozen=True)
class Request:
    client: str
    method: str
    target: str
    kind: str

    def parts(self) -> tuple[str, str, str]:
        """(host, port, path) as the request carries them: host without port; path empty for
        CONNECT and TLS; port empty when the URL gives none."""
        if self.method in ("CONNECT", "TLS"):
            host, _, port = self.target.rpartition(":")
            return host, port, ""
        rest = self.target.split("://", 1)[1]
        authority, slash, path = rest.partition("/")
        host, colon, port = authority.partition(":")
        return host, port if colon else "", "/" + path if slash else "/"


def _tld(rng: random.Random) -> str:
    return rng.choices([t for t, _ in _TLDS], [w for _, w in _TLDS])[0]


def miss_host(rng: random.Random) -> str:
    """A plausible unlisted host name."""
    label = rng.choice(_FIRST) + rng.choice(("", "-", "")) + rng.choice(_SECOND)
    if rng.random() < 0.15:
        label += str(rng.randint(1, 999))
    name = f"{label}.{_tld(rng)}"
    roll = rng.random()
    if roll < 0.45:
        return "www." + name
    if roll < 0.60:
        return f"{rng.choice(_SUBS)}.{name}"
    return name


def _lines(path: Path) -> list[str]:
    """Entries of one list file (no blanks, no comments), as ASCII text; others skipped."""
    out = []
    for raw in path.read_bytes().split(b"\n"):
        line = raw.strip()
        if not line or line.startswith(b"#") or not line.isascii() or b" " in line \
                or b"\t" in line:
            continue
        out.append(line.decode("ascii").lower() if path.name == "domains"
                   else line.decode("ascii"))
    return out


def _allocate(sizes: dict[str, int], total: int) -> dict[str, int]:
    """``total`` picks spread over categories by the square root of their size (so that the
    huge adult list does not take everything and small categories still appear)."""
    weights = {name: n ** 0.5 for name, n in sizes.items() if n}
    whole = sum(weights.values()) or 1.0
    return {name: min(sizes[name], max(1, round(total * w / whole)))
            for name, w in weights.items()}


def _sample_lists(root: Path, kind: str, total: int, rng: random.Random) -> list[tuple[str, str]]:
    """(category, entry) pairs drawn from every category's ``kind`` file."""
    files = {p.parent.name: p for p in sorted(root.glob(f"*/{kind}")) if not p.parent.is_symlink()}
    entries = {name: _lines(path) for name, path in files.items()}
    picks = _allocate({name: len(lines) for name, lines in entries.items()}, total)
    out = []
    for name in sorted(picks):
        out += [(name, entry) for entry in rng.sample(entries[name], picks[name])]
    rng.shuffle(out)
    return out[:total]


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _subdomain(domain: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45 and not domain.startswith("www."):
        return "www." + domain
    if roll < 0.85:
        return f"{rng.choice(_SUBS)}.{domain}"
    return f"{rng.choice(_SUBS)}{rng.randint(1, 9)}.{rng.choice(_SUBS)}.{domain}"


def _url_target(entry: str, rng: random.Random, kind: str = "url") -> Target:
    # A browser never sends a fragment: some list entries carry one (copied from a link).
    host, _, path = entry.split("#", 1)[0].partition("/")
    path = "/" + path
    roll = rng.random()
    if roll < 0.2:
        path += ("" if path.endswith("/") else "/") + f"page-{rng.randint(1, 99)}.html"
    elif roll < 0.4:
        path += f"{'&' if '?' in path else '?'}id={rng.randint(1, 99999)}"
    return Target(kind, host, False, path)


def _odd_targets(count: int, domains: list[str], urls: list[str],
                 rng: random.Random) -> list[Target]:
    """Corners both helpers must survive, and where their semantics may differ."""
    ips = [d for d in domains if _is_ipv4(d)]
    out: list[Target] = []
    for i in range(count):
        host = rng.choice(domains) if domains and rng.random() < 0.5 else miss_host(rng)
        case = i % 10
        if case == 0:  # explicit port on a plain HTTP URL
            out.append(Target("odd", f"{host}:{rng.choice((8080, 8000, 81))}", False,
                              "/index.html"))
        elif case == 1:  # absolute name with its final dot
            out.append(Target("odd", host + ".", rng.random() < 0.5, "/"))
        elif case == 2:  # an IPv4 literal: listed (if the lists hold any) or a documentation one
            ip = rng.choice(ips) if ips and rng.random() < 0.5 else \
                f"{rng.choice(('198.51.100', '203.0.113'))}.{rng.randint(1, 254)}"
            out.append(Target("odd", ip, rng.random() < 0.5, "/search?q=1"))
        elif case == 3:  # an internationalised name, as the browser sends it (punycode)
            word = rng.choice(_IDN)
            out.append(Target("odd", f"{word}-{rng.randint(1, 99)}.fr".encode("idna")
                              .decode("ascii"), rng.random() < 0.5, "/"))
        elif case == 4:  # a long URL (tracking parameters, SPA state)
            query = "&".join(f"p{k}={rng.getrandbits(64):016x}" for k in range(60))
            out.append(Target("odd", host, False, f"/track/{rng.randint(1, 9999)}?{query}"))
        elif case == 5:  # %-encoded path
            out.append(Target("odd", host, False, "/%7Eprof/Cours%20de%20maths%C3%A9.pdf?x=%41"))
        elif case == 6 and urls:  # a URL entry in another case (paths are case-sensitive)
            target = _url_target(rng.choice(urls), rng, "odd")
            out.append(Target("odd", target.host, False, target.path.upper()))
        elif case == 7 and urls:  # a URL entry asked with www. before its host
            target = _url_target(rng.choice(urls), rng, "odd")
            out.append(Target("odd", "www." + target.host, False, target.path))
        elif case == 8 and urls:  # a URL entry's host over HTTPS (seen by name only)
            out.append(Target("odd", rng.choice(urls).partition("/")[0], True))
        else:  # a URL entry asked with another host prefix (web., ftp.)
            entry = rng.choice(urls) if urls else host + "/"
            target = _url_target(entry, rng, "odd")
            out.append(Target("odd", f"{rng.choice(('web', 'ftp'))}.{target.host}", False,
                              target.path))
    return out


def build_pool(root: Path, distinct: int, rng: random.Random) -> list[Target]:
    """The distinct targets, ranked: popular hosts first, then everything else shuffled."""
    counts = {kind: round(distinct * share) for kind, share in POOL_SHARES.items()}
    listed = _sample_lists(root, "domains", counts["domain"] + counts["sub"], rng)
    urls = [entry for _, entry in _sample_lists(root, "urls", counts["url"] * 2, rng)]
    domains = [d for _, d in listed]
    pool = [Target("domain", d, rng.random() < HTTPS_SHARE) for d in domains[:counts["domain"]]]
    pool += [Target("sub", _subdomain(d, rng), rng.random() < HTTPS_SHARE)
             for d in domains[counts["domain"]:] if not _is_ipv4(d)]
    pool += [_url_target(entry, rng) for entry in urls[:counts["url"]]]
    seen: set[str] = set()
    while len(seen) < counts["miss"]:
        seen.add(miss_host(rng))
    pool += [Target("miss", h, rng.random() < HTTPS_SHARE) for h in sorted(seen)]
    pool += _odd_targets(counts["odd"], domains, urls, rng)
    rng.shuffle(pool)
    return [Target("popular", h, rng.random() < 0.9) for h in POPULAR] + pool


def _client(rng: random.Random, network: ipaddress.IPv4Network, clients: int) -> str:
    hosts = network.num_addresses - 2
    return str(network.network_address + 1 + (rng.randrange(clients) * 7919) % hosts)


def requests(pool: list[Target], count: int, rng: random.Random,
             network: ipaddress.IPv4Network, clients: int) -> Iterator[Request]:
    cum = list(itertools.accumulate(1.0 / (rank + 1) ** ZIPF_S for rank in range(len(pool))))
    for target in rng.choices(pool, cum_weights=cum, k=count):
        client = _client(rng, network, clients)
        if target.https:
            method = "CONNECT" if rng.random() < 0.5 else "TLS"
            yield Request(client, method, f"{target.host}:443", target.kind)
            continue
        path = target.path or rng.choice(_PATHS).format(n=rng.randint(1, 500))
        method = rng.choices(("GET", "POST", "HEAD"), (90, 7, 3))[0]
        yield Request(client, method, f"http://{target.host}{path}", target.kind)


def unrepeated(pool: list[Target], count: int, rng: random.Random,
               network: ipaddress.IPv4Network, clients: int) -> Iterator[Request]:
    """Each target of ``pool`` once, in random order, never the same URL or ``host:port``
    twice (two targets may give the same request: the second is skipped), at most ``count``."""
    order = list(pool)
    rng.shuffle(order)
    seen: set[str] = set()
    for target in order:
        if len(seen) >= count:
            return
        req = next(requests([target], 1, rng, network, clients))
        if req.target not in seen:
            seen.add(req.target)
            yield req


def generate(lists: Path, out: Path, count: int, seed: int = 0, distinct: int | None = None,
             network: str = "10.30.0.0/22", clients: int = 500,
             repeat: bool = True) -> Counter[str]:
    """Write the trace; return how many requests of each kind it holds. ``repeat=False``:
    no URL (or HTTPS host) is asked twice, the same mix of kinds, no skew (a cold cache)."""
    rng = random.Random(seed)  # noqa: S311  # benchmark data: the seed must repeat it
    root = find_tree(lists)
    size = (distinct or max(1000, count // 4)) if repeat else count + count // 10
    pool = build_pool(root, size, rng)
    kinds: Counter[str] = Counter()
    tmp = out.with_name(out.name + ".tmp")
    draw = requests if repeat else unrepeated
    with tmp.open("w", encoding="ascii", newline="\n") as f:
        f.write(f"# carine-trace v1 lists={root} requests={count} distinct={len(pool)} "
                f"seed={seed} zipf_s={ZIPF_S if repeat else 'none, no repeats'} "
                f"network={network} clients={clients}\n")
        f.write("# CLIENT METHOD TARGET KIND\n")
        batch = []
        for req in draw(pool, count, rng, ipaddress.IPv4Network(network), clients):
            kinds[req.kind] += 1
            batch.append(f"{req.client} {req.method} {req.target} {req.kind}\n")
            if len(batch) >= 10000:
                f.write("".join(batch))
                batch.clear()
        f.write("".join(batch))
    tmp.replace(out)
    return kinds


def read_trace(path: Path) -> list[Request]:
    """Every request of a trace file, in order."""
    out = []
    with path.open(encoding="ascii") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            client, method, target, kind = line.split()
            out.append(Request(client, method, target, kind))
    return out


def describe(reqs: list[Request]) -> str:
    """Mix and skew of a trace, in a few lines."""
    total = len(reqs) or 1
    kinds = Counter(r.kind for r in reqs)
    methods = Counter(r.method for r in reqs)
    hosts = Counter(r.parts()[0] for r in reqs)
    targets = len({r.target for r in reqs})
    top = sum(n for _, n in hosts.most_common(max(1, len(hosts) // 100)))
    lines = [
        f"{len(reqs):,} requests, {len(hosts):,} distinct hosts; the top 1% of hosts take "
        f"{100 * top / total:.0f}% of requests; busiest host {hosts.most_common(1)[0][0]} "
        f"({100 * hosts.most_common(1)[0][1] / total:.1f}%)",
        f"distinct targets (URLs, host:port): {targets:,} ({100 * targets / total:.1f}% of "
        "requests)",
        "kinds:   " + ", ".join(f"{k} {100 * kinds[k] / total:.1f}%" for k in KINDS),
        "methods: " + ", ".join(f"{m} {100 * n / total:.1f}%" for m, n in methods.most_common()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lists", type=Path, required=True, help="UT1 tree (folder)")
    p.add_argument("--out", type=Path, required=True, help="trace file to write")
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--distinct", type=int, help="distinct targets (default: requests / 4)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--network", default="10.30.0.0/22", help="clients' network (pedago zone)")
    p.add_argument("--clients", type=int, default=500, help="distinct client addresses")
    p.add_argument("--unrepeated", action="store_true",
                   help="no URL or HTTPS host asked twice (a cold cache), no skew")
    args = p.parse_args(argv)
    started = time.monotonic()
    generate(args.lists, args.out, args.requests, args.seed, args.distinct, args.network,
             args.clients, repeat=not args.unrepeated)
    print(f"wrote {args.out} in {time.monotonic() - started:.1f} s")
    print(describe(read_trace(args.out)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
