"""Signing in to the console: directory password (argon2, the RADIUS lockout counters), then a
TOTP code for the référent and the chef d'établissement; idle timeout; every step journaled."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from appliance.directory import accounts
from appliance.directory.accounts import Outcome
from webui import roles, totp
from webui.context import Console
from webui.forms import CodeForm, EmptyForm, LoginForm
from webui.guard import current

bp = Blueprint("auth", __name__)
PENDING_SECONDS = 300  # between a good password and its code
Page = ResponseReturnValue


def ctx() -> Console:
    console: Console = current_app.extensions["carine_console"]
    return console


def client() -> str:
    return request.remote_addr or ""


def _why(outcome: Outcome) -> str:
    if outcome is Outcome.LOCKED:
        return _("Trop d'essais : ce compte est verrouillé pour quelques minutes.")
    if outcome is Outcome.DEACTIVATED:
        return _("Ce compte est désactivé. Adressez-vous au secrétariat.")
    return _("Identifiant ou mot de passe incorrect.")


def _next() -> str:
    wanted = request.args.get("suite", "/")
    # Only a path of this console: never an open redirect.
    return wanted if wanted.startswith("/") and not wanted.startswith("//") else "/"


@bp.route("/connexion", methods=["GET", "POST"])
def login() -> Page:
    form = LoginForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("console/connexion.html", form=form), status
    c = ctx()
    now = c.now().timestamp()
    result = accounts.authenticate(c.conn(), str(form.login.data), str(form.password.data),
                                   now, c.lockout)
    if not result.ok or result.account is None:
        known = result.account.login if result.account else None  # never a mistyped password
        c.auth("failure", known, client(), result.outcome.value)
        return render_template("console/connexion.html", form=form,
                               error=_why(result.outcome)), 401
    account = result.account
    held = roles.of(c.conn(), account.id, account.profile, c.teacher_profile)
    if not held:
        c.auth("failure", account.login, client(), "no-console-role")
        return render_template("console/connexion.html", form=form, error=_(
            "Ce compte n'a pas accès à la console (réservée aux enseignants, au référent "
            "numérique et à la direction).")), 403
    session.clear()
    person = {"id": account.id, "login": account.login, "name": account.display_name,
              "roles": sorted(r.value for r in held)}
    if held & roles.SECOND_FACTOR:
        if totp.secret_of(c.conn(), account.id) is None:
            c.auth("failure", account.login, client(), "no-second-factor")
            return render_template("console/connexion.html", form=form, error=_(
                "Votre rôle demande un second facteur qui n'est pas encore configuré : "
                "demandez au technicien de l'activer (carine console totp).")), 403
        session["pending"] = {**person, "at": now}
        return redirect("/code?suite=" + _next(), 303)
    return _sign_in(person)


def _sign_in(person: dict[str, object]) -> Response:
    c = ctx()
    session.clear()
    session.permanent = True
    session["user"] = person
    session["seen"] = c.now().timestamp()
    c.auth("success", str(person["login"]), client())
    return redirect(_next(), 303)


@bp.route("/code", methods=["GET", "POST"])
def code() -> Page:
    c = ctx()
    held = session.get("pending")
    now = c.now().timestamp()
    if not isinstance(held, dict) or now - float(held.get("at", 0)) > PENDING_SECONDS:
        session.pop("pending", None)
        return redirect("/connexion", 303)
    form = CodeForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("console/code.html", form=form), status
    if not totp.verify(c.conn(), int(held["id"]), str(form.code.data), now):
        tries = int(held.get("tries", 0)) + 1
        c.auth("failure", str(held["login"]), client(), "bad-second-factor")
        if tries >= 5:
            session.pop("pending", None)
            return render_template("console/connexion.html", form=LoginForm(formdata=None),
                                   error=_("Trop de codes faux : reconnectez-vous.")), 401
        session["pending"] = {**held, "tries": tries}
        return render_template("console/code.html", form=form, error=_(
            "Code refusé : il est faux, expiré ou déjà utilisé. Attendez le code suivant.")), 401
    person = {k: held[k] for k in ("id", "login", "name", "roles")}
    return _sign_in(person)


@bp.post("/deconnexion")
def logout() -> Page:
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect("/", 303)
    user = current()
    if user is not None:
        ctx().auth("logout", user.login, client())
    session.clear()
    return render_template("console/message.html", title=_("Vous êtes déconnecté"),
                           text=_("À bientôt."), back="/connexion"), 200


def idle_timeout() -> Response | None:
    """Before every request: a session idle for longer than the face's lifetime ends (D-AUT-3)."""
    if "user" not in session:
        return None
    c = ctx()
    now = c.now().timestamp()
    limit = current_app.permanent_session_lifetime.total_seconds()
    if now - float(session.get("seen", 0)) > limit:
        login = session["user"].get("login") if isinstance(session["user"], dict) else None
        c.auth("timeout", str(login), client())
        session.clear()
        return redirect("/connexion?suite=" + request.path, 303)
    session["seen"] = now
    return None
