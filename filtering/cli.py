"""``carine filter ...``: compile or update the lists' index, look URLs up, make a synthetic tree.

Registered on the ``carine`` command through the ``carine.commands`` entry point."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from appliance import paths
from appliance.errors import CarineError
from filtering.config import CONFIG
from filtering.opscli import register_operations
from filtering.updatecli import configured_index, register_update


def _compile(args: argparse.Namespace) -> int:
    from filtering.index import compile_lists  # loaded per command: `carine validate` stays light

    started = time.monotonic()
    if args.lists.is_file():  # an archive as UT1 publishes it: unpack it aside first
        from filtering.archive import unpack

        with tempfile.TemporaryDirectory(prefix="carine-lists-") as tmp:
            unpack(args.lists, Path(tmp))
            report = compile_lists(Path(tmp), args.out, args.source or str(args.lists))
    else:
        report = compile_lists(args.lists, args.out, args.source)
    print(report.summary(per_category=args.per_category or args.verbose))
    print(f"compiled {args.out} in {time.monotonic() - started:.1f} s")
    return 0


def split_target(target: str) -> tuple[str, str | None]:
    """Host and path of a URL, or the host alone (path None) for a bare ``host[:port]``."""
    bare = "://" not in target and "/" not in target
    try:
        parts = urlsplit(target if "://" in target else f"http://{target}")
        host = parts.hostname
    except ValueError as exc:
        raise CarineError(f"{target!r} is not a URL: {exc}",
                          "e.g. https://example.com/page") from exc
    if not host:
        raise CarineError(f"{target!r} is not a URL: no host", "e.g. https://example.com/page")
    if bare:
        return host, None
    return host, parts.path + (f"?{parts.query}" if parts.query else "")


def _lookup(args: argparse.Namespace) -> int:
    from filtering.index import Index

    with Index.open(args.index or configured_index(args)) as index:
        for target in args.targets:
            host, path = split_target(target)
            print(f"{target} {','.join(sorted(index.lookup(host, path))) or '-'}")
    return 0


def _dns_refresh(args: argparse.Namespace) -> int:
    from filtering.config import FilterConfig
    from filtering.dnsstate import refresh

    print(refresh(FilterConfig.load(args.config), args.reload))
    return 0


def _synth(args: argparse.Namespace) -> int:
    from filtering.synthetic import synthesise

    started = time.monotonic()
    done = synthesise(args.lists, args.out, args.domains, args.category, args.seed)
    print(f"wrote {done.tree}: {done.real:,} real domain lines + {done.added:,} synthetic in "
          f"{done.category} = {done.real + done.added:,} ({time.monotonic() - started:.1f} s)")
    return 0


def _count(text: str) -> int:
    """A count such as 5000000 or 5_000_000 or 5M."""
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:].lower(), 1)
    try:
        value = int(text[:-1] if scale > 1 else text) * scale
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a count, e.g. 5000000 or 5M") from exc
    if value < 0:
        raise argparse.ArgumentTypeError("a count cannot be negative")
    return value


def register(sub: Any) -> None:
    """Add the ``filter`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("filter", help="filtering lists and decisions")
    cmds = p.add_subparsers(dest="filter_command", required=True)

    c = cmds.add_parser("compile", help="compile UT1 lists into the index the helpers map")
    c.add_argument("--lists", type=Path, required=True,
                   help="UT1 lists: a folder (category folders, or holding blacklists/) or "
                        "the archive as published (.tar.gz, .tar.xz)")
    c.add_argument("--out", type=Path, required=True, help="index file to write (atomically)")
    c.add_argument("--source", help="where the lists come from, kept in the index header")
    c.add_argument("--per-category", action="store_true", help="count each category")
    c.set_defaults(func=_compile)

    c = cmds.add_parser("lookup", help="categories of URLs or hosts in an index")
    c.add_argument("--index", type=Path,
                   help="default: the one the installed (or, with --lab, the lab's) "
                        "filtering.json names")
    c.add_argument("targets", nargs="+", metavar="URL", help="URL, or a bare host (as HTTPS)")
    c.set_defaults(func=_lookup)

    c = cmds.add_parser("dns-refresh", help="SafeSearch addresses and refused names for the "
                        "DNS views, from the index (after each list update)")
    c.add_argument("--config", type=Path, default=paths.Default("etc", CONFIG),
                   help="the rendered filtering.json (default %(default)s)")
    c.add_argument("--reload", action="store_true", help="tell the running views to re-read")
    c.set_defaults(func=_dns_refresh)

    register_update(cmds)
    register_operations(cmds)

    c = cmds.add_parser("synth", help="the real lists plus synthetic domains, for benchmarks")
    c.add_argument("--lists", type=Path, required=True, help="the real UT1 tree")
    c.add_argument("--out", type=Path, required=True, help="new directory for the tree")
    c.add_argument("--domains", type=_count, required=True,
                   help="total domain lines wanted in the tree (e.g. 5M)")
    c.add_argument("--category", default="adult", help="category that gets the synthetic ones")
    c.add_argument("--seed", type=int, default=0, help="same seed, same tree")
    c.set_defaults(func=_synth)
