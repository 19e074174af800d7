"""The teacher's view (D-FIL-6, D-WIF-3, D-FIL-5): open one site or the whole internet for a
zone for a bounded time, see and close one's own openings, the pupils' requests and recent
blocks in the teaching zones, and switch a room's Wi-Fi radio now."""

from __future__ import annotations

from datetime import datetime, timedelta
from ipaddress import ip_address

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.errors import CarineError
from filtering import operations, store
from filtering.names import normalise_domain
from filtering.policy import INTERNET
from network.wifi.switch import Radios, control_factory
from webui.auth import client, ctx
from webui.forms import EmptyForm, OpeningForm, RadioForm
from webui.guard import User, current, needs
from webui.roles import Role

bp = Blueprint("teacher", __name__)
Page = ResponseReturnValue


def teaching_zones() -> list[str]:
    """Zones whose clients the filter decides for: where a lesson can be opened."""
    pupils = ctx().site.directory.profiles.pupil
    zones = ctx().filter_config.zones
    # The pupils' zones first: the form's default is where lessons happen.
    return [z.name for z in sorted(zones, key=lambda z: z.profile != pupils)]


def _me() -> User:
    user = current()
    assert user is not None  # needs() let us in
    return user


def _in_zones(address: str, names: list[str]) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in z.subnet for z in ctx().site.zones if z.name in names)


def _page(form: OpeningForm, radio: RadioForm, status: int = 200,
          error: str | None = None, done: str | None = None) -> tuple[str, int]:
    c, me = ctx(), _me()
    now = c.now()
    mine = [r for r in store.running_openings(c.conn(), now) if r["by"] == me.login]
    zones = teaching_zones()
    requests = [r for r in store.unblock_requests(c.conn()) if _in_zones(r["client"], zones)]
    blocked = c.conn().execute(
        "SELECT client, host, category, at FROM filter_recent_blocks WHERE at >= ? "
        "ORDER BY at DESC LIMIT 200", ((now - store.RECENT).isoformat(timespec="seconds"),)
    ).fetchall()
    blocked = [b for b in blocked if _in_zones(b["client"], zones)][:30]
    return render_template("console/enseignant.html", form=form, radio=radio, mine=mine,
                           requests=requests, blocked=blocked, close=EmptyForm(),
                           error=error, done=done, user=me,
                           until=lambda text: c.local(datetime.fromisoformat(text))), status


def _forms() -> tuple[OpeningForm, RadioForm]:
    form, radio = OpeningForm(prefix="o"), RadioForm(prefix="r")
    form.zone.choices = [(z, z) for z in teaching_zones()]
    rooms = sorted({ap.room for ap in ctx().site.wifi.access_points})
    radio.room.choices = [(r, r) for r in rooms]
    return form, radio


@bp.get("/enseignant")
@needs(Role.TEACHER)
def home() -> Page:
    form, radio = _forms()
    return _page(form, radio)


@bp.post("/enseignant/ouvrir")
@needs(Role.TEACHER)
def open_site() -> Page:
    form, radio = _forms()
    if not form.validate_on_submit():
        return _page(form, radio, 400, _("L'ouverture n'a pas été faite : corrigez le "
                                         "formulaire."))
    domain = INTERNET
    if form.what.data == "site":
        try:
            domain = normalise_domain(str(form.domain.data or "").strip())
        except ValueError:
            form.domain.errors = [_("« %(text)s » n'est pas un nom de site (par exemple "
                                    "fr.wikipedia.org).", text=str(form.domain.data or ""))]
            return _page(form, radio, 400, _("L'ouverture n'a pas été faite : corrigez le "
                                             "formulaire."))
    c, me = ctx(), _me()
    now = c.now()
    until = now + timedelta(minutes=int(form.minutes.data or 0))
    try:  # the same function as `carine filter open`: the national layer stays closed
        operations.open_site(c.conn(), c.filter_config, domain, str(form.zone.data), until,
                             me.login, now)
    except CarineError as exc:
        why = _("ce site est bloqué au niveau national : aucune ouverture ne peut le "
                "débloquer.") if "national" in exc.message else exc.message
        return _page(form, radio, 400, _("L'ouverture n'a pas été faite : %(why)s", why=why))
    c.audit(me.login, "filter.open", target=domain, zone=str(form.zone.data),
            until=until.isoformat(), ip=client())
    what = _("tout internet") if domain == INTERNET else domain
    return _page(_forms()[0], radio, 200, done=_(
        "Ouvert : %(what)s pour la zone %(zone)s jusqu'à %(until)s.", what=what,
        zone=str(form.zone.data), until=c.local(until)))


@bp.post("/enseignant/fermer/<int:number>")
@needs(Role.TEACHER)
def close(number: int) -> Page:
    form, radio = _forms()
    if not EmptyForm().validate_on_submit():
        return _page(form, radio, 400, _("Le formulaire n'a pas pu être vérifié."))
    c, me = ctx(), _me()
    try:
        operations.close(c.conn(), number, c.now(), by=me.login)
    except CarineError:
        return _page(form, radio, 404, _("Cette ouverture n'est pas la vôtre ou est déjà "
                                         "terminée."))
    c.audit(me.login, "filter.close", target=str(number), ip=client())
    return redirect("/enseignant", 303)


@bp.post("/enseignant/wifi")
@needs(Role.TEACHER)
def wifi() -> Page:
    form, radio = _forms()
    if not radio.validate_on_submit():
        return _page(form, radio, 400, _("Le Wi-Fi n'a pas été changé : corrigez le "
                                         "formulaire."))
    c, me = ctx(), _me()
    on = radio.state.data == "on"
    try:
        radios = Radios(c.site, c.conn(), c.journal(), control_factory(c.store.parent, {}),
                        clock=c.now)
        outcomes = radios.order(radios.select([], str(radio.room.data)), on, None, me.login)
    except CarineError as exc:
        return _page(form, radio, 400, _("Le Wi-Fi n'a pas été changé : %(why)s",
                                         why=exc.message))
    c.audit(me.login, "wifi.radio", target=str(radio.room.data), state="on" if on else "off")
    failed = [o for o in outcomes if not o.applied]
    text = _("Wi-Fi de la salle %(room)s : %(state)s.", room=str(radio.room.data),
             state=_("allumé") if on else _("éteint"))
    if failed:
        text += " " + _("%(count)d borne(s) n'ont pas répondu : l'ordre sera réappliqué.",
                        count=len(failed))
    return _page(form, radio, 200, done=text)
