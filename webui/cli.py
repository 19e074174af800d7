"""`carine console grant|revoke|totp|roles`: the technician names the référent and the chef
d'établissement and enrols their second factor (the secret is shown once, never logged)."""

from __future__ import annotations

import argparse
import getpass
import time
from pathlib import Path
from typing import Any

from appliance.directory import accounts, schema
from appliance.errors import CarineError
from appliance.journal.store import Journal
from appliance.paths import Paths
from appliance.state import connect
from webui import roles, totp

STATE = Paths.system().state


def _conn(args: argparse.Namespace) -> Any:
    conn = connect(args.state / "state.sqlite")
    schema.prepare(conn)
    roles.prepare(conn)
    return conn


def _account(conn: Any, login: str) -> accounts.Account:
    found = accounts.find(conn, login)
    if found is None:
        raise CarineError(f"no account {login!r}", "carine users search NAME finds it")
    return found


def _audit(args: argparse.Namespace, action: str, target: str, **more: str) -> None:
    Journal.open(args.state / "journal").append(
        "admin", {"actor": getpass.getuser(), "action": action, "target": target, **more})


def _grant(args: argparse.Namespace) -> int:
    conn = _conn(args)
    account = _account(conn, args.login)
    roles.grant(conn, account.id, args.role, getpass.getuser(), time.time())
    _audit(args, "console.grant", account.login, role=args.role)
    print(f"{account.login}: {args.role} granted")
    if args.role in roles.SECOND_FACTOR and totp.secret_of(conn, account.id) is None:
        print(f"this role needs a second factor: carine console totp {account.login}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    conn = _conn(args)
    account = _account(conn, args.login)
    if not roles.revoke(conn, account.id, args.role):
        raise CarineError(f"{account.login} does not hold the role {args.role}")
    _audit(args, "console.revoke", account.login, role=args.role)
    print(f"{account.login}: {args.role} revoked")
    return 0


def _totp(args: argparse.Namespace) -> int:
    conn = _conn(args)
    account = _account(conn, args.login)
    secret = totp.enrol(conn, account.id, time.time())
    _audit(args, "console.totp-enrol", account.login)
    print("Enter this secret in the authentication app (shown once):")
    print(f"  {secret}")
    print(f"  {totp.uri(secret, account.login, 'CARINE')}")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("console", help="console roles and second factors")
    p.add_argument("--state", type=Path, default=STATE, help="state folder (/var/lib/carine)")
    cmds = p.add_subparsers(dest="console_cmd", required=True)
    g = cmds.add_parser("grant", help="give a console role to an account")
    g.add_argument("login")
    g.add_argument("role", choices=[r.value for r in roles.Role])
    g.set_defaults(func=_grant)
    r = cmds.add_parser("revoke", help="take a console role back")
    r.add_argument("login")
    r.add_argument("role", choices=[r.value for r in roles.Role])
    r.set_defaults(func=_revoke)
    t = cmds.add_parser("totp", help="enrol (or replace) an account's TOTP secret")
    t.add_argument("login")
    t.set_defaults(func=_totp)
