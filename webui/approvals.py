"""The head of school's approval of guest vouchers (D-AUT-1: guest access is the head's to grant):
the batches the référent made wait here; approved, their codes work at the portal; refused, never.
Each decision is journaled (D-LOG-3)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.errors import CarineError
from network.portal import vouchers
from webui.auth import client, ctx
from webui.forms import EmptyForm
from webui.guard import current, needs
from webui.roles import Role

bp = Blueprint("approvals", __name__)


def _page(status: int = 200, error: str | None = None,
          done: str | None = None) -> ResponseReturnValue:
    c = ctx()
    return render_template("console/validation.html", user=current(), rows=vouchers.pending(
        c.conn()), form=EmptyForm(), error=error, done=done,
        local=lambda t: c.local(datetime.fromtimestamp(float(t), UTC))), status


@bp.get("/chef/tickets")
@needs(Role.HEAD)
def show() -> ResponseReturnValue:
    return _page()


@bp.post("/chef/tickets/<batch>/<choice>")
@needs(Role.HEAD)
def decide(batch: str, choice: str) -> ResponseReturnValue:
    c, me = ctx(), current()
    assert me is not None
    if not EmptyForm().validate_on_submit() or choice not in ("valider", "refuser"):
        return _page(400, _("Le formulaire a expiré : recommencez."))
    approved = choice == "valider"
    try:
        vouchers.decide(c.conn(), batch, me.login, approved, c.now().timestamp())
    except CarineError:
        return _page(404, _("Ce lot n'attend plus de décision."))
    c.audit(me.login, "vouchers.approve" if approved else "vouchers.refuse", target=batch,
            ip=client())
    return _page(done=_("Lot %(b)s validé : ses tickets fonctionnent.", b=batch) if approved
                 else _("Lot %(b)s refusé : ses tickets ne fonctionneront pas.", b=batch))
