"""The référent's view of the site file: the file as it stands and its last apply; a change checked
through the CLI's own pipeline (validate → render → `carine diff`, every problem listed as
`carine validate` lists it), then applied by `carine apply` itself, its progress on the page."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.apply.diff import plan, report
from appliance.apply.generations import Store
from appliance.errors import CarineError, SiteInvalid
from appliance.files import write_atomic
from appliance.render import Layout
from appliance.render.pipeline import render_files
from appliance.site.loader import parse_site
from webui.auth import client, ctx
from webui.forms import ApplyForm, SiteForm
from webui.guard import current, needs
from webui.jobs import Busy
from webui.roles import Role

bp = Blueprint("sitefile", __name__, url_prefix="/referent")
PENDING = "site-pending.yaml"


def generations() -> Store:
    return Store(ctx().store.parent / "generations")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _page(form: SiteForm, status: int = 200, **values: object) -> ResponseReturnValue:
    c = ctx()
    text = c.site_file.read_text(encoding="utf-8") if c.site_file and c.site_file.is_file() \
        else None
    return render_template("console/site.html", user=current(), form=form, text=text,
                           applied=generations().current(), job=c.jobs.read("apply"),
                           local=lambda t: c.local(datetime.fromisoformat(t)), **values), status


@bp.get("/site")
@needs(Role.REFERENT)
def show() -> ResponseReturnValue:
    return _page(SiteForm(formdata=None))


@bp.post("/site/verifier")
@needs(Role.REFERENT)
def check() -> ResponseReturnValue:
    form = SiteForm()
    if not form.validate_on_submit():
        return _page(form, 400, error=_("Rien n'a été vérifié : corrigez le formulaire."))
    c, user = ctx(), current()
    assert user is not None
    text = str(form.text.data).replace("\r\n", "\n")
    try:
        site = parse_site(text, "site.yaml")
        files = render_files(site, Layout.system())  # the tree `carine apply` would install
    except SiteInvalid as exc:
        return _page(form, 400, error=_("Le fichier de site n'est pas valide ; rien n'a été "
                                        "changé."), problems=[str(p) for p in exc.problems])
    except CarineError as exc:
        return _page(form, 400, error=exc.message, problems=[])
    applied = generations().current()
    changes = plan(applied.contents() if applied else {}, files)
    # What was checked is what an apply installs: kept aside, named by its digest.
    write_atomic(c.store.parent / "console" / PENDING, text, 0o600)
    c.audit(user.login, "site.check", target=site.school.uai, ip=client())
    return _page(form, 200, checked=True, diff=report(changes, show_diff=True),
                 files=len(files), empty=changes.empty,
                 apply=ApplyForm(formdata=None, digest=_digest(text)))


@bp.post("/site/appliquer")
@needs(Role.REFERENT)
def apply() -> ResponseReturnValue:
    form = ApplyForm()
    c, user = ctx(), current()
    assert user is not None
    pending = c.store.parent / "console" / PENDING
    text = pending.read_text(encoding="utf-8") if pending.is_file() else None
    if not form.validate_on_submit() or text is None or _digest(text) != form.digest.data:
        return _page(SiteForm(formdata=None), 409, error=_(
            "Ce changement n'est plus celui qui a été vérifié : vérifiez-le de nouveau avant "
            "de l'appliquer."))
    try:  # the CLI's own pipeline: validate, render, check with the real tools, apply
        c.jobs.start("apply", ["apply", str(pending), "--store", str(generations().root)],
                     user.login, c.now())
    except Busy:
        return _page(SiteForm(formdata=None), 409, error=_(
            "Une application est déjà en cours : attendez qu'elle se termine."))
    c.audit(user.login, "site.apply", target=_digest(text)[:16], ip=client())
    return redirect("/referent/site#travail", 303)
