"""The référent's password slips after an import: the pending slips per class, and the sheet of
a class (as `carine users sheet` makes it) downloaded once to print; printed slips leave the
pending file, so a password sheet is never printed twice by mistake."""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.imports import pending
from appliance.imports.sheet import make_sheet
from webui.auth import client, ctx
from webui.forms import EmptyForm
from webui.guard import current, needs
from webui.roles import Role

bp = Blueprint("sheets", __name__, url_prefix="/referent")
NO_CLASS = "-"


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    c = ctx()
    slips = pending.load(c.store.parent, c.now().timestamp())
    classes = sorted(Counter(s.division or NO_CLASS for s in slips.values()).items())
    return render_template("console/fiches.html", user=current(), classes=classes,
                           form=EmptyForm(), error=error), status


@bp.get("/utilisateurs/fiches")
@needs(Role.REFERENT)
def show() -> ResponseReturnValue:
    return _page()


@bp.post("/utilisateurs/fiches/<division>")
@needs(Role.REFERENT)
def sheet(division: str) -> ResponseReturnValue:
    c, me = ctx(), current()
    assert me is not None
    if not EmptyForm().validate_on_submit():
        return _page(400, _("Le formulaire a expiré : recommencez."))
    site = c.site
    portal = site.directory.portal_address or f"http://portail.{site.lan.domain}/"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fiches.html"
        result = make_sheet(c.conn(), c.store.parent, out,
                            None if division == NO_CLASS else division, site.school.name,
                            portal, now=c.now().timestamp(), tz=site.school.timezone)
        html = out.read_text(encoding="utf-8")
    if not result.printed:
        return _page(404, _("Aucune fiche à imprimer pour cette classe (mots de passe déjà "
                            "changés, ou déjà imprimées)."))
    c.audit(me.login, "directory.sheet", target=division, count=result.printed, ip=client())
    # Passwords inside: downloaded once, never cached; the sheet has its own print styles.
    return Response(html, mimetype="text/html", headers={
        "Content-Disposition": f'attachment; filename="fiches-{division}.html"',
        "Cache-Control": "no-store"})
