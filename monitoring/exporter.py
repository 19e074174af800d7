"""The appliance's Prometheus endpoint: /metrics behind basic authentication (argon2id hash),
served by cheroot; nftables lets only the managing zones and the académie's scrapers reach it."""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from appliance.errors import CarineError
from appliance.wsgi import serve
from monitoring import configfile
from monitoring.bodies import LEAD, MAX_AGE, REFRESH
from monitoring.collect import ApplianceCollector, Paths
from monitoring.exposition import MetricsApp, ProbeBlock
from monitoring.probes import RESULTS

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("carine.exporter")
SWITCH_INTERVAL = 0.0005  # seconds


class BasicAuth:
    """WSGI middleware: 401 unless the request carries the configured user and password.

    argon2 costs tens of milliseconds by design; a scrape must answer in a few, so a verified
    password is remembered by its SHA-256 for the life of the process."""

    def __init__(self, app: WSGIApplication, user: str, password_hash: str) -> None:
        self.app, self.user, self.hash = app, user, password_hash
        self.hasher = PasswordHasher()
        self.verified: set[bytes] = set()

    def _allowed(self, header: str) -> bool:
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not hmac.compare_digest(user, self.user):
            return False
        digest = hashlib.sha256(password.encode()).digest()
        if digest in self.verified:
            return True
        try:
            self.hasher.verify(self.hash, password)
        except (VerificationError, InvalidHashError):
            return False
        self.verified.add(digest)
        return True

    def __call__(self, environ: WSGIEnvironment, start: StartResponse) -> Iterable[bytes]:
        if self._allowed(environ.get("HTTP_AUTHORIZATION", "")):
            return self.app(environ, start)
        start("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="carine"'),
                                   ("Content-Type", "text/plain")])
        return [b"authentication required\n"]


def create_app(config: dict[str, Any]) -> WSGIApplication:
    """The authenticated /metrics application for a parsed monitoring.json."""
    paths = Paths.from_config(config)
    probes = ProbeBlock(paths.run / RESULTS, paths.uai)
    metrics = MetricsApp(ApplianceCollector(paths, probes=False), probes).start()
    return BasicAuth(metrics, config["user"], config["password_hash"])


def load(path: Path) -> dict[str, Any]:
    """monitoring.json through its model (a damaged file is refused whole), as plain values."""
    doc = configfile.load(path)
    if not doc.password_hash:
        raise CarineError("no metrics password is configured",
                          "set monitoring.metrics_password_hash in the site file")
    found: dict[str, Any] = doc.model_dump(mode="json")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="carine-exporter", description=__doc__,
        epilog=f"Answers are made ahead of scrapes: every {REFRESH:g} s, just after a scrape, "
               f"when scrapes are frequent; {LEAD:g} s before each expected scrape when they are "
               f"further apart. A scrape never gets values read more than {MAX_AGE:g} s "
               "before.")
    p.add_argument("--config", type=Path, required=True, help="the rendered monitoring.json")
    p.add_argument("--bind", default="0.0.0.0",  # noqa: S104 - nftables decides who reaches it
                   help="address to listen on")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="carine-exporter %(levelname)s %(message)s")
    # The maker thread holds the GIL while it formats; a scrape's thread would wait up to the
    # switch interval (5 ms by default) for it at each hand-off. This process only.
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        config = load(args.config)
        serve(create_app(config), args.bind, int(config["port"]), threads=4)
    except CarineError as exc:
        print(f"carine-exporter: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
