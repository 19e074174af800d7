"""carine-portal: the portal's web application (cheroot) and its loop, in one process on the
appliance (it must run where the firewall and the zones' neighbour table are)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from appliance import wsgi
from appliance.errors import CarineError
from network.portal.access import Access, Events
from network.portal.app import create_app
from network.portal.config import PortalConfig
from network.portal.counters import FILE as LOGINS_FILE
from network.portal.counters import LoginCounters
from network.portal.keeper import Keeper
from network.portal.nftset import NftSets

log = logging.getLogger("carine.portal")
LOOP_SECONDS = 2.0


def voucher_key(config: PortalConfig) -> bytes:
    """The key of the vouchers' hashes (0600, shared by the portal and `carine vouchers`)."""
    config.state.mkdir(mode=0o700, parents=True, exist_ok=True)
    return wsgi.secret_key(config.state / "voucher.key").encode("ascii")


def build(config: PortalConfig, *, batched: bool = False) -> Access:
    """The portal's access; ``batched`` for the daemon: its threads share nft batches, and it
    keeps the login counters the exporter reads."""
    counters = LoginCounters(config.run / LOGINS_FILE if batched else None)
    return Access(config, NftSets(sorted(config.idle_sets.values()), batched=batched),
                  Events(config.journal, counters))


def _loop(keeper: Keeper, stop: threading.Event) -> None:
    while not stop.wait(LOOP_SECONDS):
        keeper.tick()
        keeper.access.events.logins.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="carine-portal", description=__doc__)
    p.add_argument("--config", type=Path, required=True, help="the rendered portal.json")
    p.add_argument("--bind", default="0.0.0.0",  # noqa: S104 - nftables opens it per zone
                   help="address to listen on (default: all; the firewall decides who reaches it)")
    p.add_argument("--threads", type=int, default=8, help="web worker threads")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="carine-portal[%(process)d] %(levelname)s %(message)s")
    stop = threading.Event()
    access: Access | None = None
    try:
        config = PortalConfig.load(args.config)
        config.charter_text()  # a missing charter is an error at start, not at a first login
        access = build(config, batched=True)
        key = voucher_key(config)
        app = create_app(access, key, secret_key=wsgi.secret_key(config.state / "portal.key"))
        keeper = Keeper(access)
        keeper.tick()  # sessions of before a restart: back in the gate, or closed
        loop = threading.Thread(target=_loop, args=(keeper, stop), name="keeper", daemon=True)
        loop.start()
        wsgi.serve(app, args.bind, config.port, threads=args.threads)
    except CarineError as exc:
        log.error("%s%s", exc.message, f" (hint: {exc.hint})" if exc.hint else "")
        return 1
    finally:
        stop.set()
        if access is not None:
            access.events.logins.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
