"""``carine radius ...``: the RADIUS state a technician handles: client secrets, the CA and
server certificate, client certificates for EAP-TLS (issue, list, revoke). Registered through
the ``carine.commands`` entry point."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.errors import CarineError
from appliance.render.layout import Layout


def _paths(args: argparse.Namespace) -> Any:
    from network.radius.paths import RadiusPaths

    return RadiusPaths(args.state / "radius")


def _secret(args: argparse.Namespace) -> int:
    from network.radius import secrets

    paths = _paths(args)
    if args.renew:
        print(secrets.renew(paths, args.client))
        print("renewed: configure the device with this secret now", flush=True)
        return 0
    print(secrets.read(paths, args.client))
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from network.radius.settings import Settings
    from network.radius.state import ensure_state

    settings = Settings.load(args.config / "carine.json")
    made = ensure_state(Layout.system(), settings)
    print("made: " + (", ".join(made) if made else "nothing (all present)"))
    return 0


def _owner_exists(state: Path, login: str) -> None:
    from appliance.state import connect
    from network.radius.directory import subscriber

    conn = connect(state / "state.sqlite")
    try:
        found = subscriber(conn, login)
    except Exception as exc:  # no directory yet
        raise CarineError(f"cannot read the directory: {exc}") from exc
    finally:
        conn.close()
    if found is None or not found.active:
        raise CarineError(f"no active account {login!r}", "the owner is a directory login")


def _issue(args: argparse.Namespace) -> int:
    from network.radius import certs, issued

    paths = _paths(args)
    if not paths.ca_key.exists():
        raise CarineError(f"no CA in {paths.root}", "apply the configuration first "
                          "(or: carine radius prepare --config DIR)")
    _owner_exists(args.state, args.owner)
    password = None
    if args.password_file is not None:
        password = args.password_file.read_text(encoding="utf-8").strip()
    if args.format == "p12" and not password:
        raise CarineError("a PKCS#12 file needs a password", "give --password-file FILE")
    cert, key = issued.issue(paths, args.name, args.owner, args.days)
    ca, _ = certs.load_ca(paths)
    for path in issued.export(cert, key, ca, args.out, args.format, password):
        print(f"  {path}")
    print(f"issued {args.name} for {args.owner}: serial {cert.serial_number:x}, valid until "
          f"{cert.not_valid_after_utc:%Y-%m-%d}")
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from network.radius import issued

    gone = issued.revoke(_paths(args), args.which)
    print(f"revoked {gone.name} (serial {gone.serial}, owner {gone.owner}); the CRL is "
          "rewritten and FreeRADIUS refuses it from now on")
    return 0


def _list(args: argparse.Namespace) -> int:
    from network.radius import issued

    for row in issued.load_registry(_paths(args)):
        until = dt.datetime.fromtimestamp(row.not_after, dt.UTC)
        state = "revoked" if row.revoked_at is not None else "valid"
        print(f"{row.serial:>34}  {row.name:24} {row.owner:20} {until:%Y-%m-%d}  {state}")
    return 0


def register(sub: Any) -> None:
    """Add the ``radius`` command group to the ``carine`` parser."""
    p: argparse.ArgumentParser = sub.add_parser("radius", help="802.1X: secrets, certificates")
    p.add_argument("--state", type=Path, default=paths.Default("state"),
                   help="state folder (default %(default)s, or the lab's with carine --lab)")
    cmds = p.add_subparsers(dest="radius_command", required=True)
    c = cmds.add_parser("secret", help="show the shared secret of a RADIUS client")
    c.add_argument("client", help="a name from radius.clients")
    c.add_argument("--renew", action="store_true", help="replace it (a device leaked it)")
    c.set_defaults(func=_secret)
    c = cmds.add_parser("prepare", help="make the secrets, CA, server certificate and CRL a "
                        "rendered FreeRADIUS folder needs (kept if present)")
    c.add_argument("--config", type=Path, default=paths.Default("etc", "carine/freeradius"),
                   help="the rendered FreeRADIUS folder")
    c.set_defaults(func=_prepare)
    cert = cmds.add_parser("cert", help="client certificates for EAP-TLS")
    certs = cert.add_subparsers(dest="cert_command", required=True)
    c = certs.add_parser("issue", help="a certificate for one device")
    c.add_argument("name", help="device name, e.g. tablette-cdi-07 (the certificate's CN)")
    c.add_argument("--owner", required=True, help="login of the account it authenticates as")
    c.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    c.add_argument("--format", choices=("p12", "pem"), default="p12")
    c.add_argument("--password-file", type=Path, help="password of the PKCS#12 file")
    c.add_argument("--days", type=int, default=730)
    c.set_defaults(func=_issue)
    c = certs.add_parser("revoke", help="revoke by serial (hex) or device name")
    c.add_argument("which")
    c.set_defaults(func=_revoke)
    c = certs.add_parser("list", help="issued certificates")
    c.set_defaults(func=_list)
