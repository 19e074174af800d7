"""The chef d'établissement's view (D-LOG-2, D-LOG-4): journal searches only with a typed reason
(the requisition number), each read journaled with it, and the sealed export for the
authorities, as `carine journal export` makes it."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from flask import Blueprint, render_template, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.directory.logins import LOGIN_RE
from appliance.errors import CarineError
from appliance.journal import access
from appliance.journal import roles as journal_roles
from filtering.names import normalise_domain
from webui.auth import client, ctx
from webui.forms import JournalForm
from webui.guard import current, needs
from webui.roles import Role

bp = Blueprint("head", __name__)
Page = ResponseReturnValue
MAX_PERIOD = timedelta(days=31)
MAX_SHOWN = 200  # rows on the page (under 100 KB); the sealed export carries them all


class Refused(Exception):
    """A search the form cannot run; the message says why, in the user's language."""


def _when(text: str) -> datetime:
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise Refused(_("« %(text)s » n'est pas une date et une heure (AAAA-MM-JJ HH:MM).",
                        text=text)) from None
    return local.replace(tzinfo=ctx().zone)


def _search(form: JournalForm, operator: str) -> tuple[str, list[dict[str, Any]]]:
    c = ctx()
    journal, reason = c.journal(), str(form.reason.data).strip()
    value, start = str(form.value.data).strip(), _when(str(form.start.data))
    if form.kind.data == "ip":
        try:
            ip_address(value)
        except ValueError:
            raise Refused(_("« %(text)s » n'est pas une adresse IP.", text=value)) from None
        return "ip", access.who_had(journal, operator, value, start, reason=reason)
    if form.kind.data == "host":
        try:
            host = normalise_domain(value)
        except ValueError:
            raise Refused(_("« %(text)s » n'est pas un nom de site.", text=value)) from None
        return "host", access.visited(journal, operator, host, start.date(),
                                      c.site.school.timezone, reason=reason)
    if not LOGIN_RE.match(value):
        raise Refused(_("« %(text)s » n'est pas un identifiant.", text=value))
    end = _when(str(form.end.data or ""))
    if not start < end <= start + MAX_PERIOD:
        raise Refused(_("La période va de quelques minutes à 31 jours, la fin après le début."))
    return "user", access.connections(journal, operator, value, start, end, reason=reason)


def _ensure_controller(login: str) -> None:
    """The chef role of the console makes its holder a data controller of the journal."""
    journal = ctx().journal()
    if login not in journal_roles.controllers(journal.root):
        journal_roles.grant(journal, login, "console")


@bp.route("/chef/journal", methods=["GET", "POST"])
@needs(Role.HEAD)
def search() -> Page:
    form, user = JournalForm(), current()
    assert user is not None
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("console/journal.html", form=form, user=user, kind=None,
                               rows=None), status
    try:
        _ensure_controller(user.login)
        kind, rows = _search(form, user.login)
    except Refused as exc:
        return render_template("console/journal.html", form=form, user=user, kind=None,
                               rows=None, error=str(exc)), 400
    except CarineError as exc:
        return render_template("console/journal.html", form=form, user=user, kind=None,
                               rows=None, error=exc.message), 400
    ctx().audit(user.login, "journal.search", target=str(form.value.data)[:80],
                reason=str(form.reason.data), ip=client())
    return render_template("console/journal.html", form=form, user=user, kind=kind,
                           rows=rows[:MAX_SHOWN], hidden=max(0, len(rows) - MAX_SHOWN),
                           local=lambda text: ctx().local(datetime.fromisoformat(text)))


@bp.post("/chef/journal/export")
@needs(Role.HEAD)
def export() -> Page:
    form, user = JournalForm(), current()
    assert user is not None
    if not form.validate_on_submit() or form.kind.data == "host":
        return render_template("console/journal.html", form=form, user=user, kind=None,
                               rows=None, error=_("L'export porte sur une adresse IP ou un "
                                                  "identifiant, avec le motif.")), 400
    c = ctx()
    try:
        start = _when(str(form.start.data))
        end = _when(str(form.end.data)) if form.end.data else start + timedelta(hours=1)
        if not start < end <= start + MAX_PERIOD:
            raise Refused(_("La période va de quelques minutes à 31 jours, la fin après le "
                            "début."))
        _ensure_controller(user.login)
        value = str(form.value.data).strip()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "extraction.zip"
            count, digest = access.export_to(
                c.journal(), user.login, start, end, out,
                ip=value if form.kind.data == "ip" else None,
                user=value if form.kind.data == "user" else None,
                school=c.site.school.name, reason=str(form.reason.data))
            data = out.read_bytes()
    except Refused as exc:
        return render_template("console/journal.html", form=form, user=user, kind=None,
                               rows=None, error=str(exc)), 400
    except CarineError as exc:
        return render_template("console/journal.html", form=form, user=user, kind=None,
                               rows=None, error=exc.message), 400
    c.audit(user.login, "journal.export", target=value[:80], count=count, sha256=digest,
            reason=str(form.reason.data), ip=client())
    import io
    response = send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                         download_name=f"extraction-{digest[:12]}.zip")
    response.headers["X-Carine-Sha256"] = digest
    return response
