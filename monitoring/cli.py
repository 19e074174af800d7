"""``carine monitor ...``: commands of the supervision side (the metrics password for now).

Registered on the ``carine`` command through the ``carine.commands`` entry point."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from appliance.errors import CarineError

MIN_LENGTH = 12


def _hash_password(args: argparse.Namespace) -> int:
    from argon2 import PasswordHasher

    if sys.stdin.isatty():
        password = getpass.getpass("metrics password: ")
        if getpass.getpass("again: ") != password:
            raise CarineError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_LENGTH:
        raise CarineError(f"the password is too short (at least {MIN_LENGTH} characters)")
    print(PasswordHasher().hash(password))
    return 0


def register(sub: Any) -> None:
    """Add the ``monitor`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("monitor", help="supervision")
    cmds = p.add_subparsers(dest="monitor_command", required=True)
    c = cmds.add_parser("hash-password", help="argon2id hash for monitoring.metrics_password_hash "
                        "(password read from the terminal, or one line of stdin)")
    c.set_defaults(func=_hash_password)
    from monitoring.report_cli import register_report  # argparse only: imports nothing heavy

    register_report(cmds)
