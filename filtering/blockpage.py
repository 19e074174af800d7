"""The block page and the "recently blocked" page (D-FIL-5): why a site is blocked, in French,
and a request to the school's referent to unblock it. A Flask app served by cheroot."""

from __future__ import annotations

import argparse
import logging
import secrets
import sqlite3
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response as Redirect

from appliance import wsgi
from appliance.clock import local_now, zone
from appliance.errors import CarineError
from appliance.state import connect
from appliance.web.factory import HEADERS, Face
from appliance.web.factory import create_app as web_app
from filtering import store, wording
from filtering.blockform import BadInput, form_url, host_of, parse_message, read_demand
from filtering.config import FilterConfig

log = logging.getLogger("carine.blockpage")

__all__ = ["HEADERS", "create_app"]
MAX_BODY = 16 * 1024  # a request form: 2000-character URL and 500-character comment, encoded
MAX_ROWS = 15  # the recent list stays a light page (D-UI-3) even after a burst of blocks
ANSWERS_FOR = timedelta(days=7)  # how long a pupil sees the referent's answers


class Unavailable(CarineError):
    """The state store cannot take an unblock request (HTTP 503)."""


class Store:
    """The runtime store as the block page uses it: optional, since the page must explain a
    block even without it, and behind a lock, since cheroot's threads share one connection."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.Lock()
        self.conn: sqlite3.Connection | None = None
        try:
            conn = connect(path)
            store.prepare(conn)
        except (CarineError, sqlite3.Error) as exc:
            log.error("state store unavailable (%s): unblock requests are off", exc)
        else:
            self.conn = conn

    def recent(self, client: str, now: datetime) -> list[store.Blocked] | None:
        """What ``client`` was refused lately, or None when the store cannot say."""
        if self.conn is None:
            return None
        try:
            with self.lock:
                return store.recent_blocks(self.conn, client, now)
        except sqlite3.Error as exc:
            log.error("cannot read recent blocks: %s", exc)
            return None

    def answers(self, client: str, now: datetime) -> list[sqlite3.Row]:
        """``client``'s unblock requests of the last week with the referent's answers."""
        if self.conn is None:
            return []
        try:
            with self.lock:
                return store.answers_for(self.conn, client, now - ANSWERS_FOR)
        except sqlite3.Error as exc:
            log.error("cannot read request answers: %s", exc)
            return []

    def request(self, client: str, host: str, url: str, category: str, reason: str,
                comment: str, now: datetime) -> int:
        unavailable = Unavailable("Les demandes de déblocage sont momentanément indisponibles.",
                                  "Réessayez plus tard, ou prévenez le référent numérique.")
        if self.conn is None:
            raise unavailable
        try:
            with self.lock:
                return store.request_unblock(self.conn, client, host, url, category, reason,
                                             comment, now)
        except sqlite3.Error as exc:
            log.error("cannot record an unblock request: %s", exc)  # never the comment itself
            raise unavailable from exc


def breakable(host: str) -> Markup:
    """A host name that may wrap after its dots only (never inside a label)."""
    return escape(host).replace(".", Markup(".<wbr>"))  # escaped first, then the markup


def create_app(config: FilterConfig, clock: Callable[[], datetime] | None = None, *,
               secret_key: str | None = None) -> Flask:
    """The block page application for one school; ``clock`` gives aware times (the system's
    by default), shown in the school's zone; ``secret_key`` signs the CSRF session (random by
    default: forms shown before a restart then need a reload)."""
    tz = zone(config.timezone)
    # Plain HTTP (Squid redirects blocked pages here): the cookie is not Secure, and no HSTS.
    face = Face("blockpage", https=False, max_body=MAX_BODY, error_page=error_page, globals={
        "explain": wording.explain, "category_label": wording.category_label,
        "french_time": lambda at: wording.french_time(at, tz), "uai": config.uai})
    return web_app(__name__, face, [blueprint(config, clock or local_now(config.timezone))],
                   secret_key=secret_key or secrets.token_hex(32))


def error_page(status: int, title: str, message: str, hint: str | None) -> tuple[str, int]:
    """The block page's own error page (the factory's handlers call it: CSRF, HTTP, crashes)."""
    return render_template("erreur.html", title=title, message=message, hint=hint), status


def blueprint(config: FilterConfig, clock: Callable[[], datetime]) -> Blueprint:
    """The block page's routes and error pages."""
    app = Blueprint("blockpage", __name__, template_folder="templates/blockpage",
                    static_folder="static", static_url_path="/static")
    app.add_app_template_filter(breakable, "breakable")
    tz = zone(config.timezone)
    db = Store(config.store)

    def client() -> str:
        return request.remote_addr or ""

    @app.get("/")
    def home() -> Redirect:
        return redirect(url_for("blockpage.recent"))

    @app.get("/sante")
    def health() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/favicon.ico")
    def favicon() -> tuple[str, int]:
        return "", 204  # browsers ask on every page: answer without rendering a 404 page

    @app.get("/bloque")
    def blocked() -> str:
        message = parse_message(request.args.get("m"))
        url = request.args.get("u", "")
        return render_template(
            "bloque.html", host=host_of(url), url=form_url(url), message=message,
            why=wording.explain(message.reason, message.category, message.profile),
            when=wording.french_datetime(clock(), tz), client=client(),
            requests_on=db.conn is not None)

    @app.get("/bloques")
    def recent() -> str:
        rows = db.recent(client(), clock())  # None: the store cannot say
        shown = None if rows is None else rows[:MAX_ROWS]
        more = 0 if rows is None or shown is None else len(rows) - len(shown)
        answers = [(r, datetime.fromisoformat(r["until"]) if r["until"] else None)
                   for r in db.answers(client(), clock())]
        return render_template("bloques.html", rows=shown, more=more, client=client(),
                               answers=answers)

    @app.post("/demande")
    def demand() -> str:
        now = clock()
        wanted = read_demand(request.form)
        # The filter's own record of this block beats what the (editable) form claims.
        seen = next((b for b in db.recent(client(), now) or () if b.host == wanted.host), None)
        if seen is not None:
            wanted = wanted.as_recorded(seen.category, seen.reason)
        number = db.request(client(), wanted.host, wanted.url, wanted.category, wanted.reason,
                            wanted.comment, now)
        log.info("unblock request %d recorded", number)
        return render_template("demande.html", number=number, host=wanted.host)

    error = error_page

    @app.app_errorhandler(BadInput)
    def bad_input(exc: BadInput) -> tuple[str, int]:
        return error(400, "Demande refusée", exc.message, exc.hint)

    @app.app_errorhandler(Unavailable)
    def unavailable(exc: Unavailable) -> tuple[str, int]:
        return error(503, "Service indisponible", exc.message, exc.hint)

    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="carine-blockpage", description=__doc__)
    p.add_argument("--config", type=Path, required=True, help="the rendered filtering.json")
    p.add_argument("--port", type=int, help="default: the site's filtering.block_page_port")
    p.add_argument("--bind", default="0.0.0.0",  # noqa: S104  nftables opens it per zone
                   help="address to listen on (default: all; the firewall decides who reaches "
                        "it)")
    p.add_argument("--secret-file", type=Path,
                   help="file keeping the session key across restarts (0600, created if absent)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="carine-blockpage[%(process)d] %(levelname)s %(message)s")
    try:
        config = FilterConfig.load(args.config)
        key = wsgi.secret_key(args.secret_file) if args.secret_file else None
        wsgi.serve(create_app(config, secret_key=key), args.bind,
                   args.port or config.filtering.block_page_port)
    except CarineError as exc:
        log.error("%s%s", exc.message, f" (hint: {exc.hint})" if exc.hint else "")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
