"""The base app factory every web face is a blueprint on (the core never imports a face: the
face calls ``create_app`` with its blueprint). Config, CSRF, headers, sessions, errors, i18n."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from appliance.web import i18n

# Strict: nothing inline, nothing from elsewhere, never framed (D-UI-3: no script is needed).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"  # only ever sent over HTTPS
TEMPLATES = Path(__file__).resolve().parent / "templates"
ErrorPage = Callable[[int, str, str, str | None], tuple[str, int]]


@dataclass(frozen=True)
class Face:
    """What differs between faces: the cookie's name, whether the face is HTTPS (Secure cookie,
    HSTS), how long a session lives, the largest body, and the error page."""

    name: str
    https: bool = False
    session_minutes: int = 30
    max_body: int = 16 * 1024
    locales: tuple[str, ...] = ("fr",)
    translations: tuple[Path, ...] = ()
    error_page: ErrorPage | None = None
    globals: Mapping[str, Any] = field(default_factory=dict)


def default_error(status: int, title: str, message: str, hint: str | None) -> tuple[str, int]:
    return render_template("web/erreur.html", title=title, message=message, hint=hint), status


def create_app(import_name: str, face: Face, blueprints: Iterable[Blueprint], *,
               secret_key: str | None = None,
               test_config: Mapping[str, Any] | None = None) -> Flask:
    """A Flask app for one face, with ``blueprints`` registered on it (Flask tutorial style:
    ``test_config`` overrides the configuration)."""
    app = Flask(import_name, static_folder=None, template_folder=str(TEMPLATES))
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_hex(32), MAX_CONTENT_LENGTH=face.max_body,
        SESSION_COOKIE_NAME=f"carine_{face.name}", SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SECURE=face.https,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=face.session_minutes),
        SEND_FILE_MAX_AGE_DEFAULT=86400, WTF_CSRF_TIME_LIMIT=face.session_minutes * 60,
        # Pages send no Referer (Referrer-Policy: no-referrer), so Flask-WTF's HTTPS referrer
        # check would refuse every form: the token and the SameSite=Strict cookie remain.
        WTF_CSRF_SSL_STRICT=False, CARINE_HTTPS=face.https)
    if test_config:
        app.config.update(test_config)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True  # lighter pages
    app.jinja_env.globals.update(face.globals)
    CSRFProtect(app)  # type: ignore[no-untyped-call]  # Flask-WTF has no annotations
    i18n.install(app, face.locales, face.translations)
    error = face.error_page or default_error
    _errors(app, error)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        if app.config["CARINE_HTTPS"]:
            response.headers["Strict-Transport-Security"] = HSTS
        if response.mimetype == "text/html":
            response.headers["Cache-Control"] = "no-store"  # pages carry a CSRF token
        return response

    return app


def _errors(app: Flask, error: ErrorPage) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_exc: CSRFError) -> tuple[str, int]:
        return error(400, "Demande refusée", "Le formulaire n'a pas pu être vérifié : il a "
                     "peut-être expiré.", "Rechargez la page, puis recommencez.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[str, int]:
        status = exc.code or 500
        if status == 404:
            return error(404, "Page introuvable", "Cette page n'existe pas.", None)
        if status == 413:
            return error(413, "Demande trop longue", "La demande dépasse la taille permise.",
                         "Raccourcissez le texte, puis recommencez.")
        if status == 405:
            return error(405, "Demande refusée", "Cette demande n'est pas possible ici.", None)
        return error(status, "Demande refusée", "Cette demande n'est pas possible ici.", None)

    @app.errorhandler(Exception)
    def failure(exc: Exception) -> tuple[str, int]:
        app.logger.exception("unexpected error on %s", request.path)  # path only: no query
        return error(500, "Erreur", "Une erreur inattendue est survenue.",
                     "Réessayez dans quelques instants.")
