"""The référent's registered devices (D-AUT-1): printers, boards and managed PCs let through the
gate by their MAC, with an owner and a profile; the list prints as the inventory sheet. The same
functions as `carine devices add|remove`; the portal lets a new one in at its next lease."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.errors import CarineError
from appliance.site import Internet
from network.portal import devices
from webui.auth import client, ctx
from webui.forms import DeviceForm, EmptyForm
from webui.guard import current, needs
from webui.roles import Role

bp = Blueprint("devices", __name__, url_prefix="/referent")
PER_PAGE = 50  # a lycée registers up to 1,500: the page stays light (D-UI-3)


def _form() -> DeviceForm:
    site = ctx().site
    form = DeviceForm(prefix="d")
    form.profile.choices = [(p, p) for p in site.filtering.profiles]
    zones = [(z.name, z.name) for z in site.zones if z.internet is not Internet.NONE]
    form.zone.choices = [("", _("selon son adresse")), *zones]
    return form


def _page(form: DeviceForm, status: int = 200, error: str | None = None,
          done: str | None = None) -> ResponseReturnValue:
    c = ctx()
    query = request.args.get("q", "").strip().lower()[:64]
    found = [d for d in devices.active(c.conn()).values() if not query or any(
        query in text.lower() for text in (d.name, d.mac, d.owner))]
    pages = max(1, -(-len(found) // PER_PAGE))
    try:
        number = min(max(1, int(request.args.get("page", "1"))), pages)
    except ValueError:
        number = 1
    return render_template("console/appareils.html", user=current(), form=form,
                           rows=found[(number - 1) * PER_PAGE:number * PER_PAGE],
                           total=len(found), page=number, pages=pages, query=query,
                           remove=EmptyForm(), school=c.site.school.name, error=error,
                           done=done), status


@bp.get("/appareils")
@needs(Role.REFERENT)
def show() -> ResponseReturnValue:
    return _page(_form())


@bp.post("/appareils")
@needs(Role.REFERENT)
def add() -> ResponseReturnValue:
    form, c, me = _form(), ctx(), current()
    assert me is not None
    if not form.validate_on_submit():
        return _page(form, 400, _("Aucun appareil n'a été enregistré : corrigez le formulaire."))
    try:
        device = devices.add(c.conn(), mac=str(form.mac.data).strip(),
                             name=str(form.name.data), kind=str(form.kind.data),
                             owner=str(form.owner.data), profile=str(form.profile.data),
                             zone=str(form.zone.data) or None, by=me.login,
                             now=c.now().timestamp())
    except CarineError as exc:
        if "MAC" in exc.message:
            form.mac.errors = [_("« %(text)s » n'est pas une adresse MAC (par exemple "
                                 "52:54:00:12:34:56).", text=str(form.mac.data))]
        else:
            form.name.errors = [_("Nom et responsable : de 1 à 64 caractères sur une ligne.")]
        return _page(form, 400, _("Aucun appareil n'a été enregistré : corrigez le formulaire."))
    c.audit(me.login, "device-add", target=device.mac, name=device.name, kind=device.kind,
            owner=device.owner, profile=device.profile, ip=client())
    return _page(_form(), 200, done=_("%(name)s (%(mac)s) est enregistré : il passera le portail "
                                      "à sa prochaine connexion.", name=device.name,
                                      mac=device.mac))


@bp.post("/appareils/<int:device_id>/retirer")
@needs(Role.REFERENT)
def remove(device_id: int) -> ResponseReturnValue:
    c, me = ctx(), current()
    assert me is not None
    if not EmptyForm().validate_on_submit():
        return _page(_form(), 400, _("Le formulaire a expiré : recommencez."))
    found = [d for d in devices.active(c.conn()).values() if d.id == device_id]
    if not found:
        return _page(_form(), 404, _("Cet appareil n'est plus enregistré."))
    devices.remove(c.conn(), found[0].mac)
    c.audit(me.login, "device-remove", target=found[0].mac, name=found[0].name, ip=client())
    return _page(_form(), 200, done=_("%(name)s est retiré.", name=found[0].name))
