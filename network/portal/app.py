"""The portal's web application (French, no JavaScript), a blueprint on the appliance's web
factory: login, charter at first login, password change, voucher login, status with logout and
the recently blocked sites, RFC 8908 API."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from ipaddress import ip_address
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
)
from flask import session as cookie
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response as Redirect

from appliance.clock import format_local
from appliance.directory import accounts, passwords
from appliance.directory.accounts import Account, Lockout, Outcome
from appliance.sessions.store import Method
from appliance.web.factory import HEADERS, Face
from appliance.web.factory import create_app as web_app
from network.portal import vouchers
from network.portal.access import Access
from network.portal.forms import (
    CharterForm,
    LoginForm,
    LogoutForm,
    PasswordForm,
    VoucherForm,
    new,
    submitted,
    value,
)
from network.portal.neighbours import mac_of
from network.portal.ratelimit import RateLimit
from network.portal.status import recent_blocks

__all__ = ["HEADERS", "create_app"]
PENDING_SECONDS = 600  # a login waiting for the charter or a new password
BLOCKPAGE_STATIC = Path(__file__).resolve().parents[2] / "filtering" / "static"
WHY = {Outcome.LOCKED: "Trop d'essais : ce compte est verrouillé pour quelques minutes.",
       Outcome.DEACTIVATED: "Ce compte est désactivé. Adressez-vous au secrétariat."}
BAD = "Identifiant ou mot de passe incorrect."


def create_app(access: Access, voucher_key: bytes, *, secret_key: str | None = None,
               monotonic: Callable[[], float] = time.monotonic) -> Flask:
    """The portal for one school on the shared web factory; the clock is the ``access``'s.
    Plain HTTP (a captive portal is reached before any certificate can be trusted): the session
    cookie is not Secure, and no HSTS."""
    config = access.config
    face = Face("portail", https=False, session_minutes=PENDING_SECONDS // 60, max_body=8192,
                globals={"school": config.school, "uai": config.uai})
    return web_app(__name__, face, [blueprint(access, voucher_key, monotonic)],
                   secret_key=secret_key or secrets.token_hex(32))


def blueprint(access: Access, voucher_key: bytes,
              monotonic: Callable[[], float] = time.monotonic) -> Blueprint:
    """The portal's routes, pages and errors."""
    config = access.config
    tz = config.timezone  # the times the pages show are the school's
    app = Blueprint("portal", __name__, template_folder="templates/portal",
                    static_folder="static", static_url_path="/static")
    limiter = RateLimit(config.attempts_per_minute)
    lockout = Lockout(config.lockout_attempts, config.lockout_minutes)
    events = access.events
    home_host = f"carine.{config.domain}"

    def client() -> str:
        return request.remote_addr or ""

    def page(name: str, status: int = 200, **values: object) -> tuple[str, int]:
        return render_template(name, client=client(), **values), status

    @app.before_app_request
    def gatekeeper() -> Redirect | tuple[str, int] | None:
        host = (request.host or "").rsplit(":", 1)[0].lower().strip("[]")
        ours = host == home_host or _in_zones(host)
        if not ours:  # web of an unauthenticated client, redirected here by the firewall
            return redirect(config.url + "connexion", 302)
        if request.endpoint not in ("portal.static", "portal.style", "portal.health") and \
                config.zone_of(client()) is None:
            return page("message.html", 403, title="Portail réservé",
                        text="Ce portail sert aux réseaux qui demandent une connexion.")
        return None

    def _in_zones(host: str) -> bool:
        try:
            return config.zone_of(str(ip_address(host))) is not None
        except ValueError:
            return False

    def limited(method: str) -> tuple[str, int] | None:
        if limiter.allow(client(), monotonic()):
            return None
        events.auth("failure", method, None, client(), "rate-limited")
        wait = limiter.retry_after(client(), monotonic())
        return page("message.html", 429, title="Trop d'essais",
                    text=f"Trop d'essais depuis cet appareil. Réessayez dans {wait} secondes.")

    def zone_refuses(profile: str) -> bool:
        zone = config.zone_of(client())
        return zone is not None and bool(zone.profiles) and profile not in zone.profiles

    def finish(account: Account) -> Redirect:
        cookie.pop("pending", None)
        access.open(method=Method.PORTAL, login=account.login, profile=account.profile,
                    ip=client(), mac=mac_of(client(), config.leases), account_id=account.id,
                    zone=_zone_name())
        events.auth("success", "portal", account.login, client())
        return redirect("/statut", 303)

    def _zone_name() -> str | None:
        zone = config.zone_of(client())
        return zone.name if zone else None

    def pending() -> Account | None:
        held = cookie.get("pending")
        if not isinstance(held, dict) or held.get("ip") != client() or \
                access.clock() - float(held.get("at", 0)) > PENDING_SECONDS:
            return None
        found = accounts.find(access.conn(), str(held.get("login", "")))
        return found if found is not None and found.id == held.get("id") else None

    def next_step(account: Account) -> Redirect:
        if account.charter_needed(config.charter_version):
            return redirect("/charte", 303)
        if account.must_change:
            return redirect("/mot-de-passe", 303)
        return finish(account)

    @app.get("/")
    def home() -> Redirect:
        return redirect("/statut" if access.current(client()) else "/connexion", 303)

    @app.get("/sante")
    def health() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.get("/style/<path:name>")
    def style(name: str) -> Response:
        return send_from_directory(BLOCKPAGE_STATIC, name)

    @app.route("/connexion", methods=["GET", "POST"])
    def login() -> Redirect | tuple[str, int]:
        form = new(LoginForm)
        if not submitted(form):
            return page("connexion.html", 400 if request.method == "POST" else 200, form=form)
        refused = limited("portal")
        if refused:
            return refused
        result = accounts.authenticate(access.conn(), value(form.login), value(form.password),
                                       access.clock(), lockout)
        if not result.ok or result.account is None:
            # An unknown "login" may be a password typed in the wrong field: never journaled.
            known = result.account.login if result.account else None
            events.auth("failure", "portal", known, client(), result.outcome.value)
            return page("connexion.html", 401, form=form, error=WHY.get(result.outcome, BAD))
        account = result.account
        if zone_refuses(account.profile):
            events.auth("failure", "portal", account.login, client(), "zone-refused")
            return page("connexion.html", 403, form=form,
                        error="Ce compte ne peut pas se connecter sur ce réseau.")
        cookie["pending"] = {"id": account.id, "login": account.login, "ip": client(),
                             "at": access.clock()}
        return next_step(account)

    @app.route("/charte", methods=["GET", "POST"])
    def charter() -> Redirect | tuple[str, int]:
        account = pending()
        if account is None:
            return redirect("/connexion", 303)
        form = new(CharterForm)
        if submitted(form):
            accounts.acknowledge_charter(access.conn(), account.id, config.charter_version,
                                         access.clock())
            events.auth("charter", "portal", account.login, client(),
                        f"version {config.charter_version}")
            found = accounts.find(access.conn(), account.login)
            return next_step(found or account)
        return page("charte.html", 400 if request.method == "POST" else 200, form=form,
                    text=config.charter_text(), version=config.charter_version)

    @app.route("/mot-de-passe", methods=["GET", "POST"])
    def password() -> Redirect | tuple[str, int]:
        account, forced = pending(), True
        if account is None:
            live = access.current(client())
            forced = False
            account = accounts.find(access.conn(), live.login) \
                if live is not None and live.method is Method.PORTAL else None
        if account is None:
            return redirect("/connexion", 303)
        form = new(PasswordForm)
        if not submitted(form):
            return page("motdepasse.html", 400 if request.method == "POST" else 200, form=form,
                        forced=forced)
        if not forced:
            refused = limited("portal")
            if refused:
                return refused
            check = accounts.authenticate(access.conn(), account.login, value(form.current),
                                          access.clock(), lockout)
            if not check.ok:
                events.auth("failure", "password-change", account.login, client(),
                            check.outcome.value)
                return page("motdepasse.html", 401, form=form, forced=forced,
                            error=WHY.get(check.outcome, "Mot de passe actuel incorrect."))
        why = passwords.check_new_password(value(form.new), account.login)
        if why is not None:
            return page("motdepasse.html", 400, form=form, forced=forced,
                        error=f"Nouveau mot de passe refusé : {why}.")
        accounts.set_password(access.conn(), account.id, value(form.new), access.clock())
        events.auth("password-changed", "portal", account.login, client())
        if forced:
            return next_step(accounts.find(access.conn(), account.login) or account)
        return page("message.html", title="Mot de passe changé",
                    text="Votre nouveau mot de passe est enregistré.", back="/statut")

    @app.route("/ticket", methods=["GET", "POST"])
    def voucher() -> Redirect | tuple[str, int]:
        form = new(VoucherForm)
        if not submitted(form):
            return page("ticket.html", 400 if request.method == "POST" else 200, form=form,
                        text=config.charter_text())
        refused = limited("voucher")
        if refused:
            return refused
        mac = mac_of(client(), config.leases)
        used = vouchers.redeem(access.conn(), voucher_key, value(form.code), client(), mac,
                               access.clock())
        if isinstance(used, str):
            events.auth("failure", "voucher", None, client(), used)
            text = {"used": "Ce ticket a déjà servi.", "expired": "Ce ticket a expiré.",
                    "pending": "Ce ticket n'a pas encore été validé par le chef "
                               "d'établissement.",
                    "refused": "Ce ticket a été refusé par le chef d'établissement."}
            return page("ticket.html", 401, form=form, text=config.charter_text(),
                        error=text.get(used, "Ce code de ticket est inconnu."))
        login = f"ticket-{used.id}"
        if zone_refuses(used.profile):
            events.auth("failure", "voucher", login, client(), "zone-refused")
            return page("ticket.html", 403, form=form, text=config.charter_text(),
                        error="Ce ticket ne vaut pas pour ce réseau.")
        access.open(method=Method.VOUCHER, login=login, profile=used.profile, ip=client(),
                    mac=mac, zone=_zone_name(), lifetime=used.valid_minutes * 60,
                    voucher_id=used.id)
        events.auth("success", "voucher", login, client(), f"batch {used.batch}")
        return redirect("/statut", 303)

    @app.get("/statut")
    def status() -> Redirect | tuple[str, int]:
        live = access.current(client())
        if live is None:
            return redirect("/connexion", 303)
        left = int(live.expires_at - access.clock())
        return page("statut.html", live=live, left=left, form=new(LogoutForm),
                    until=format_local(live.expires_at, tz, day=False),
                    rows=recent_blocks(access.conn(), client(), access.clock(), tz),
                    blockpage=f"http://{home_host}:{_blockpage_port()}/bloques")

    def _blockpage_port() -> int:
        return int(current_app.config.get("BLOCKPAGE_PORT", 8088))

    @app.post("/deconnexion")
    def logout() -> tuple[str, int]:
        live = access.current(client())
        if live is not None and live.method is not Method.DEVICE:
            access.close(live, "logout")
        return page("message.html", title="Vous êtes déconnecté",
                    text="Votre accès à internet est fermé sur cet appareil.", back="/connexion")

    @app.get("/api/captive")
    def captive_api() -> Response:
        live = access.current(client())
        doc: dict[str, object] = {"captive": live is None, "user-portal-url": config.url}
        if live is not None:
            doc["seconds-remaining"] = max(0, int(live.expires_at - access.clock()))
        response = Response(json.dumps(doc), mimetype="application/captive+json")
        response.headers["Cache-Control"] = "private, no-store"
        return response

    @app.app_errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> tuple[str, int]:
        return page("message.html", 400, title="Formulaire expiré",
                    text="Le formulaire n'a pas pu être vérifié : il a peut-être expiré.",
                    back=request.path)

    @app.app_errorhandler(404)
    def not_found(_exc: Exception) -> tuple[str, int]:
        return page("message.html", 404, title="Page introuvable",
                    text="Cette page n'existe pas.", back="/connexion")

    return app
