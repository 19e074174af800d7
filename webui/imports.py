"""The référent's user import (D-DIR-1/2): an AAF XML or CSV file uploaded, analysed and prepared
as a dry run whose report is shown first; applied only on demand, by `carine users import` itself
in the background, with a progress bar drawn from its `progress DONE/TOTAL` lines."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.files import write_atomic
from appliance.imports.codes import ImportRefused
from appliance.imports.model import Settings
from appliance.imports.report import lines
from appliance.imports.run import run_import
from webui.auth import client, ctx
from webui.forms import ImportApplyForm, ImportForm
from webui.guard import current, needs
from webui.jobs import Busy, JobState
from webui.roles import Role

bp = Blueprint("imports", __name__, url_prefix="/referent")
PROGRESS = re.compile(r"^progress (\d+)/(\d+)$", re.MULTILINE)
SHOWN = 200  # records of the dry run on the page


def _folder() -> Path:
    return ctx().store.parent / "console" / "imports"


def progress(job: JobState) -> tuple[int, int] | None:
    found = PROGRESS.findall(job.tail)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def _page(form: ImportForm, status: int = 200, **values: object) -> ResponseReturnValue:
    c = ctx()
    job = c.jobs.read("import")
    return render_template("console/import.html", user=current(), form=form, job=job,
                           bar=progress(job), local=lambda t: c.local(datetime.fromisoformat(t)),
                           **values), status


@bp.get("/utilisateurs/import")
@needs(Role.REFERENT)
def show() -> ResponseReturnValue:
    return _page(ImportForm(formdata=None))


@bp.post("/utilisateurs/import/analyser")
@needs(Role.REFERENT)
def analyse() -> ResponseReturnValue:
    form = ImportForm()
    if not form.validate_on_submit():
        return _page(form, 400, error=_("Rien n'a été analysé : corrigez le formulaire."))
    c, user = ctx(), current()
    assert user is not None
    upload = form.file.data
    data = upload.read()
    name = Path(upload.filename or "import").name
    suffix = ".xml" if name.lower().endswith(".xml") else ".csv"
    digest = hashlib.sha256(data).hexdigest()
    path = _folder() / f"{digest[:32]}{suffix}"
    write_atomic(path, data, 0o600)  # kept for the apply: the same bytes, named by digest
    try:
        outcome = run_import([path], c.store.parent, Settings.from_site(c.site), dry_run=True,
                             mode=str(form.mode.data), actor=f"console:{user.login}")
    except ImportRefused as exc:
        path.unlink(missing_ok=True)
        return _page(form, 400, error=_("Le fichier « %(name)s » est refusé (%(code)s) ; rien "
                                        "n'a été changé.", name=name, code=exc.code),
                     detail=exc.message)
    counts = outcome.plan.count()
    report = lines(outcome, per_record=True)
    c.audit(user.login, "directory.import-dry-run", target=name[:80], ip=client())
    return _page(form, 200, analysed=name, counts=counts, blocking=[
        str(i) for i in outcome.blocking], report="\n".join(report[:SHOWN]),
        hidden=max(0, len(report) - SHOWN),
        apply=None if outcome.blocking else ImportApplyForm(
            formdata=None, digest=digest, mode=str(form.mode.data)))


@bp.post("/utilisateurs/import/appliquer")
@needs(Role.REFERENT)
def apply() -> ResponseReturnValue:
    form = ImportApplyForm()
    c, user = ctx(), current()
    assert user is not None
    found = [p for p in _folder().glob(f"{str(form.digest.data)[:32]}.*")] \
        if form.validate_on_submit() else []
    if len(found) != 1 or hashlib.sha256(found[0].read_bytes()).hexdigest() != form.digest.data:
        return _page(ImportForm(formdata=None), 409, error=_(
            "Ce fichier n'est plus celui qui a été analysé : analysez-le de nouveau."))
    args = ["users", "import", str(found[0]), "--state", str(c.store.parent), "--progress",
            "--actor", f"console:{user.login}"]
    if form.mode.data in ("full", "delta"):
        args.append(f"--{form.mode.data}")
    if c.site_file is not None:
        args += ["--site", str(c.site_file)]
    try:
        c.jobs.start("import", args, user.login, c.now())
    except Busy:
        return _page(ImportForm(formdata=None), 409, error=_(
            "Un import est déjà en cours : attendez qu'il se termine."))
    c.audit(user.login, "directory.import", target=found[0].name, ip=client())
    return redirect("/referent/utilisateurs/import#travail", 303)
