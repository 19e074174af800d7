"""``carine radius ...``: the RADIUS state a technician handles: client secrets, the CA, client
certificates for EAP-TLS (issue, list, revoke). Registered through ``carine.commands``."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    """Add the ``radius`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("radius", help="802.1X: secrets, certificates")
    p.add_subparsers(dest="radius_command", required=True)
