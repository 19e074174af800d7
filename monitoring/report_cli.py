"""``carine monitor report``: its arguments, and where the series come from (Prometheus, or a
file that saved its answer). Added to the ``monitor`` group by monitoring/cli.py."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from appliance.errors import CarineError


def _objective(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError("a percentage above 0 and at most 100, e.g. 99.5")
    return value


def _report(args: argparse.Namespace) -> int:
    from monitoring.availability import Month
    from monitoring.maintenance import load_windows
    from monitoring.promapi import availability_query, fetch_month, load_series, samples_of
    from monitoring.report import build_report, render_json, render_text

    try:
        month = Month.parse(args.month, args.timezone)
    except (KeyError, ValueError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise CarineError(f"unknown time zone {args.timezone!r}: {exc}",
                          "e.g. Europe/Paris, America/Cayenne, Indian/Reunion") from None
    windows = load_windows(args.maintenance, month.zone) if args.maintenance else []
    if args.series is not None:
        doc = load_series(args.series)
    else:
        query = availability_query(args.uai, args.service)
        doc = fetch_month(args.prometheus, query, month, args.timeout)
        if args.save is not None:
            args.save.write_text(json.dumps(doc) + "\n", encoding="utf-8")
    report = build_report(month, samples_of(doc), windows, args.objective)
    print(render_json(report) if args.json else render_text(report), end="")
    return 0


def register_report(cmds: Any) -> None:
    """Add ``report`` to the ``monitor`` group's subparsers."""
    r: argparse.ArgumentParser = cmds.add_parser(
        "report", help="monthly availability of the probed services against the objective")
    r.add_argument("--month", required=True, help="YYYY-MM, in --timezone")
    source = r.add_mutually_exclusive_group(required=True)
    source.add_argument("--prometheus", metavar="URL", help="e.g. http://prometheus:9090")
    source.add_argument("--series", type=Path, metavar="FILE",
                        help="a query_range answer saved earlier (--save)")
    r.add_argument("--objective", type=_objective, default=99.5, metavar="PERCENT",
                   help="monthly objective of each target (default 99.5)")
    r.add_argument("--maintenance", type=Path, metavar="FILE",
                   help="YAML list of {start, end, comment}: minutes left out of the figures")
    r.add_argument("--uai", help="only this school")
    r.add_argument("--service", help="only this service (ent, educonnect...)")
    r.add_argument("--timezone", default="Europe/Paris", help="of the month and of the "
                   "maintenance times without a zone (default Europe/Paris)")
    r.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP query")
    r.add_argument("--save", type=Path, metavar="FILE",
                   help="also save Prometheus's answer, to report again without it")
    r.add_argument("--json", action="store_true", help="JSON instead of a table")
    r.set_defaults(func=_report)
