"""carine-console: the console served by cheroot over HTTPS on the administering zones'
addresses only, with the appliance's certificate (a self-signed one is made when absent)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from appliance import wsgi
from appliance.errors import CarineError
from appliance.site import load_site
from appliance.tls import write_self_signed
from appliance.web.i18n import compile_catalogues
from webui.app import TRANSLATIONS, create_app
from webui.context import Console

log = logging.getLogger("carine.console")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="carine-console", description=__doc__)
    p.add_argument("--config", type=Path, required=True, help="the rendered console.json")
    p.add_argument("--bind", action="append", help="address to listen on (default: the "
                   "gateways of the zones that may administer); repeatable")
    p.add_argument("--port", type=int, help="default: the config's")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="carine-console[%(process)d] %(levelname)s %(message)s")
    try:
        doc = json.loads(args.config.read_text(encoding="utf-8"))
        site = load_site(Path(doc["site"]))
        tls = Path(doc["tls"])
        if not tls.exists():
            tls.parent.mkdir(parents=True, exist_ok=True)
            write_self_signed(tls, f"carine.{site.lan.domain}")
        key_file = Path(doc["voucher_key"])
        console = Console(site, Path(doc["store"]), Path(doc["journal"]),
                          site_file=Path(doc["site"]), run=Path(doc["run"]),
                          # Under systemd (it sets INVOCATION_ID), long runs get units of their
                          # own: an apply that restarts the console must not kill itself.
                          detach=bool(os.environ.get("INVOCATION_ID")),
                          voucher_key=key_file.read_bytes() if key_file.exists() else b"")
        if not (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.mo").exists():
            compile_catalogues(TRANSLATIONS)
        secret = Path(doc["secret"])
        secret.parent.mkdir(parents=True, exist_ok=True)
        app = create_app(console, secret_key=wsgi.secret_key(secret))
        binds = args.bind or list(doc["listen"])
        if not binds:
            raise CarineError("no zone may administer the appliance: the console has nowhere "
                              "to listen", "set manages_appliance: true on the office's zone")
        wsgi.serve(app, binds[0], args.port or int(doc["port"]), tls=tls, also=binds[1:])
    except CarineError as exc:
        log.error("%s%s", exc.message, f" (hint: {exc.hint})" if exc.hint else "")
        return 1
    except (OSError, ValueError, KeyError) as exc:
        log.error("cannot start the console: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
