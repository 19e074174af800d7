"""``carine filter update`` (new lists, checked, switched atomically; or --rollback) and
``carine filter generations``: their arguments, and what they print and return."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.errors import CarineError


def configured_index(args: argparse.Namespace) -> Path:
    """The index the rendered filtering.json names (the system's, or the lab's)."""
    from filtering.config import FilterConfig

    return FilterConfig.load(paths.of(args).etc("carine/filtering.json")).index


def _index_of(args: argparse.Namespace) -> Path:
    """--index, or the index the filtering.json of --dns-config names (they must agree: the
    DNS views are derived from that one)."""
    if args.dns_config is None and args.index is None:
        installed = paths.of(args).etc("carine/filtering.json")
        if installed.exists():  # the appliance's (or the lab's) own filtering.json
            args.dns_config = installed
    if args.dns_config is None:
        if args.index is None:
            raise CarineError("--index is required", "give the index path (e.g. "
                              "/var/lib/carine/filtering/index.cidx) or --dns-config")
        index: Path = args.index
        return index
    from filtering.config import FilterConfig

    configured = FilterConfig.load(args.dns_config).index
    if args.index is not None and args.index.absolute() != configured.absolute():
        raise CarineError(f"--index {args.index} is not the index {args.dns_config} names "
                          f"({configured})", "the DNS views follow that one: give only one")
    return configured


def _update(args: argparse.Namespace) -> int:
    from filtering.checksum import hex_digest
    from filtering.rollback import rollback
    from filtering.update import Options, update
    from filtering.updatereport import outcome_lines

    index = _index_of(args)
    if args.rollback:
        if args.checksum or args.checksum_url:
            raise CarineError("--rollback takes no checksum", "it switches to a kept generation")
        outcome = rollback(index, args.wait, args.dns_config)
    else:
        checksum = hex_digest(args.checksum, "--checksum") if args.checksum else None
        outcome = update(Options(args.source, index, checksum, args.checksum_url, args.keep,
                                 args.max_shrink, args.wait, args.allow_withdrawn,
                                 args.dns_config, args.timeout))
    print("\n".join(outcome_lines(outcome)))
    if outcome.dns_failed:
        print("carine: the lists were switched, but the DNS views did not follow", file=sys.stderr)
        print(f"  hint: carine filter dns-refresh --config {args.dns_config} --reload",
              file=sys.stderr)
        return 1
    return 0


def _generations(args: argparse.Namespace) -> int:
    from filtering.updatereport import generations_lines

    print("\n".join(generations_lines(args.index or configured_index(args))))
    return 0


def _keep(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("keep at least 1 generation (the current one)")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction, e.g. 0.5") from exc
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("a fraction between 0 and 1 (1: no shrink check)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from exc
    if value < 0:
        raise argparse.ArgumentTypeError("seconds cannot be negative")
    return value


def register_update(cmds: Any) -> None:
    """Add ``update`` and ``generations`` to the ``carine filter`` parser."""
    c = cmds.add_parser("update", help="fetch, check and switch to new lists (or --rollback); "
                        "exit 2 when the new lists are refused and the current ones stay")
    what = c.add_mutually_exclusive_group(required=True)
    what.add_argument("--source", metavar="URL|ARCHIVE|DIR",
                      help="http(s) URL of the UT1 archive, a local archive or a UT1 folder")
    what.add_argument("--rollback", action="store_true",
                      help="switch back to the generation before the current one")
    check = c.add_mutually_exclusive_group()
    check.add_argument("--checksum", metavar="HEX", help="md5 or sha256 of the archive")
    check.add_argument("--checksum-url", metavar="URL",
                       help="its checksum file: a digest, or a MD5SUM.LST/sha256sum listing")
    c.add_argument("--index", type=Path, metavar="PATH", help="the index path the helpers map "
                   "(default: the one --dns-config names)")
    # Defaults as filtering.update's, not imported: parsing `carine ...` stays light.
    c.add_argument("--keep", type=_keep, default=3, metavar="N",
                   help="generations kept, the current one always (default 3)")
    c.add_argument("--max-shrink", type=_fraction, default=0.5, metavar="FRACTION",
                   help="refuse if a category of more than 1000 domains loses more than this "
                        "fraction (default 0.5)")
    c.add_argument("--dns-config", type=Path, metavar="FILTERING_JSON",
                   help="after the switch, refresh the DNS views (as dns-refresh --reload); "
                        "default: the installed filtering.json (the lab's with --lab) if any")
    c.add_argument("--wait", type=_seconds, default=0.0, metavar="SECONDS",
                   help="seconds to wait for another update to finish (default: refuse at once)")
    c.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS",
                   help="network timeout in seconds (default 60)")
    c.add_argument("--allow-withdrawn", action="store_true",
                   help="apply lists even if they are those of a generation rolled back from")
    c.set_defaults(func=_update)

    c = cmds.add_parser("generations", help="list generations kept and the last update attempt")
    c.add_argument("--index", type=Path, metavar="PATH",
                   help="default: the one the installed (or the lab's) filtering.json names")
    c.set_defaults(func=_generations)
