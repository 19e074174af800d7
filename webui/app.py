"""The console's application: the base factory with the console's blueprints (sign-in, home and
help, teacher, référent, chef d'établissement), over HTTPS, French first then English."""

from __future__ import annotations

from collections.abc import Mapping
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from appliance.web.factory import Face
from appliance.web.factory import create_app as base_app
from webui import (
    approvals,
    auth,
    devices,
    head,
    imports,
    lists,
    pages,
    referent,
    sheets,
    sitefile,
    teacher,
    wifi,
)
from webui.context import Console, close_conn
from webui.guard import current

HERE = Path(__file__).resolve().parent
TRANSLATIONS = HERE / "translations"
# The base factory's error texts, translated here (extracted with the N_ keyword).
def N_(text: str) -> str:
    return text


FACTORY_TEXTS = (N_("Page introuvable"), N_("Cette page n'existe pas."), N_("Demande refusée"),
                 N_("Le formulaire n'a pas pu être vérifié : il a peut-être expiré."),
                 N_("Rechargez la page, puis recommencez."), N_("Demande trop longue"),
                 N_("La demande dépasse la taille permise."),
                 N_("Raccourcissez le texte, puis recommencez."),
                 N_("Cette demande n'est pas possible ici."), N_("Erreur"),
                 N_("Une erreur inattendue est survenue."),
                 N_("Réessayez dans quelques instants."), N_("Console réservée"),
                 N_("La console s'ouvre depuis le réseau d'administration."))
SESSION_MINUTES = 20  # idle time after which the console asks to sign in again (D-AUT-3)


def error_page(status: int, title: str, message: str, hint: str | None) -> tuple[str, int]:
    return render_template("console/message.html", title=_(title), text=_(message),
                           hint=_(hint) if hint else None, user=current()), status


# An AAF export of a lycée is a few megabytes; the importer refuses above its own 64 MB.
MAX_UPLOAD = 32 * 1024 * 1024


def create_app(console: Console, *, secret_key: str | None = None,
               test_config: Mapping[str, Any] | None = None) -> Flask:
    face = Face("console", https=True, session_minutes=SESSION_MINUTES, max_body=MAX_UPLOAD,
                locales=("fr", "en"), translations=(TRANSLATIONS,), error_page=error_page,
                globals={"school": console.site.school.name, "uai": console.site.school.uai})
    blueprints = (pages.bp, auth.bp, teacher.bp, referent.bp, imports.bp, sheets.bp,
                  devices.bp, sitefile.bp, lists.bp, wifi.bp, head.bp, approvals.bp)
    app = base_app(__name__, face, blueprints, secret_key=secret_key, test_config=test_config)
    app.extensions["carine_console"] = console
    app.teardown_appcontext(close_conn)
    managing = [z.subnet for z in console.site.zones if z.is_managing()]

    @app.before_request
    def gate() -> tuple[str, int] | Response | None:
        # The listening sockets are on managing zones only; this refuses the rest anyway.
        try:
            address = ip_address(request.remote_addr or "")
        except ValueError:
            address = None
        if address is None or not (address.is_loopback or any(address in n for n in managing)):
            return error_page(403, "Console réservée",
                              "La console s'ouvre depuis le réseau d'administration.", None)
        return auth.idle_timeout()

    return app
