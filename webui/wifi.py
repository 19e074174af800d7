"""The référent's Wi-Fi (D-WIF-3): every access point with its room, its weekly schedule (from the
site file, changed there and applied), the radio as recorded now and its next scheduled change,
the latest switches; and a room's radio switched now, as the teacher's view does."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.errors import CarineError
from network.wifi import store as radio_store
from network.wifi.schedule import is_on, next_change, periods
from network.wifi.switch import Radios, control_factory
from webui.auth import client, ctx
from webui.forms import RadioForm
from webui.guard import current, needs
from webui.roles import Role

bp = Blueprint("wifi", __name__, url_prefix="/referent")


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _form() -> RadioForm:
    form = RadioForm(prefix="r")
    form.room.choices = [(r, r) for r in sorted({ap.room for ap in ctx().site.wifi.access_points})]
    return form


def _page(form: RadioForm, status: int = 200, error: str | None = None,
          done: str | None = None) -> ResponseReturnValue:
    c = ctx()
    now, zone, wifi = c.now(), c.zone, c.site.wifi
    conn = radio_store.open_store(c.conn())
    states = radio_store.load_all(conn)
    rows = []
    for ap in wifi.access_points:
        schedule = wifi.schedules.get(ap.schedule) if ap.schedule else None
        week = [(d, ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in periods(schedule, d))
                 or "—") for d in range(7)] if schedule else []
        planned = is_on(schedule, now, zone) if schedule else None
        change = next_change(schedule, now, zone) if schedule else None
        rows.append({"ap": ap, "week": week, "planned": planned, "state": states.get(ap.name),
                     "next": c.local(change) if change else None})
    events = radio_store.history(conn, limit=20)
    return render_template("console/wifi.html", user=current(), rows=rows,
                           events=events, form=form, error=error, done=done,
                           local=lambda t: c.local(datetime.fromisoformat(t))), status


@bp.get("/wifi")
@needs(Role.REFERENT)
def show() -> ResponseReturnValue:
    return _page(_form())


@bp.post("/wifi")
@needs(Role.REFERENT)
def switch() -> ResponseReturnValue:
    form, c, me = _form(), ctx(), current()
    assert me is not None
    if not form.validate_on_submit():
        return _page(form, 400, _("Le Wi-Fi n'a pas été changé : corrigez le formulaire."))
    on = form.state.data == "on"
    try:
        radios = Radios(c.site, c.conn(), c.journal(), control_factory(c.store.parent, {}),
                        clock=c.now)
        outcomes = radios.order(radios.select([], str(form.room.data)), on, None, me.login)
    except CarineError as exc:
        return _page(form, 400, _("Le Wi-Fi n'a pas été changé : %(why)s", why=exc.message))
    c.audit(me.login, "wifi.radio", target=str(form.room.data), state="on" if on else "off",
            ip=client())
    text = _("Wi-Fi de la salle %(room)s : %(state)s.", room=str(form.room.data),
             state=_("allumé") if on else _("éteint"))
    failed = [o for o in outcomes if not o.applied]
    if failed:
        text += " " + _("%(count)d borne(s) n'ont pas répondu : l'ordre sera réappliqué.",
                        count=len(failed))
    return _page(_form(), 200, done=text)
