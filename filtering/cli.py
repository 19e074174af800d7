"""``carine filter ...``: compile the lists into an index, look URLs up, update the lists.

Registered on the ``carine`` command through the ``carine.commands`` entry point."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``filter`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("filter", help="filtering lists and decisions")
    p.add_subparsers(dest="filter_command", required=True)
