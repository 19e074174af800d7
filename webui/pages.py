"""The pages every console user shares: home (tasks of one's roles, RGPD notice), help guides,
the accessibility statement, the style sheet and the académie's logo."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, render_template, send_from_directory
from markupsafe import Markup

from webui.auth import ctx
from webui.guard import current

bp = Blueprint("pages", __name__, static_folder="static", static_url_path="/static",
               template_folder="templates")
DOCS = Path(__file__).resolve().parents[1] / "docs" / "console"
GUIDES = ("enseignant", "referent", "chef", "technicien")


@bp.get("/")
def home() -> str:
    return render_template("console/accueil.html", user=current())


@bp.get("/accessibilite")
def accessibility() -> str:
    return render_template("console/accessibilite.html", user=current())


@bp.get("/aide")
def help_index() -> str:
    return render_template("console/aide.html", user=current(), guides=GUIDES, guide=None)


@bp.get("/aide/<name>")
def guide(name: str) -> str:
    if name not in GUIDES:
        abort(404)
    from webui.guides import render_guide  # markdown to HTML, light
    text = render_guide(DOCS, name, str(ctx_lang()))
    return render_template("console/aide.html", user=current(), guides=GUIDES, guide=name,
                           body=Markup(text))  # noqa: S704  our own docs, escaped by render_guide


@bp.get("/captures/<path:name>")
def screenshot(name: str) -> Response:
    return send_from_directory(DOCS / "captures", name, max_age=86400)


@bp.get("/logo")
def logo() -> Response:
    path = ctx().logo
    if path is None or not path.is_file():
        return send_from_directory(Path(__file__).resolve().parent / "static", "marianne.svg",
                                   max_age=86400)
    return send_from_directory(path.parent, path.name, max_age=86400)


def ctx_lang() -> str:
    from flask_babel import get_locale
    return str(get_locale() or "fr")
