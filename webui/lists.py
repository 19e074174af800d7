"""The référent's filtering lists: the generations kept and the last attempt, an update now (the
same command as the daily timer's unit) and the switch back to the previous generation, both run
by the CLI itself (`carine filter update`) in the background, their output on the page."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from filtering.generations import Store
from filtering.updatestatus import read_status
from webui.auth import client, ctx
from webui.forms import EmptyForm
from webui.guard import current, needs
from webui.jobs import Busy
from webui.roles import Role

bp = Blueprint("lists", __name__, url_prefix="/referent")
UNIT = "carine-lists-update.service"


def _etc() -> Path:
    """/etc of the installed tree: the site file is its carine/site.yaml."""
    c = ctx()
    return c.site_file.parent.parent if c.site_file else Path("/etc")


def update_args() -> list[str] | None:
    """The timer's own `carine filter update ...` (its unit's ExecStart), None if not installed."""
    try:
        text = (_etc() / "systemd" / "system" / UNIT).read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("ExecStart="):
            argv = shlex.split(line.removeprefix("ExecStart=").lstrip("-@+!"))
            return argv[1:] if len(argv) > 1 else None
    return None


def rollback_args() -> list[str]:
    config = _etc() / "carine" / "filtering.json"
    if config.exists():  # the DNS views follow the switch, as after the timer's update
        return ["filter", "update", "--rollback", "--dns-config", str(config)]
    return ["filter", "update", "--rollback", "--index", str(ctx().filter_config.index)]


def _page(status: int = 200, error: str | None = None) -> ResponseReturnValue:
    c = ctx()
    store = Store(c.filter_config.index)
    manifest = store.load() if store.dir.is_dir() else None
    now = store.current(manifest) if manifest else None
    rows = [(g, now is not None and g.name == now.name) for g in
            (manifest.generations if manifest else [])]
    return render_template(
        "console/listes.html", user=current(), rows=rows[::-1], last=read_status(store),
        installed=update_args() is not None, job=c.jobs.read("lists"), form=EmptyForm(),
        error=error, local=lambda t: c.local(datetime.fromisoformat(t))), status


@bp.get("/listes")
@needs(Role.REFERENT)
def show() -> ResponseReturnValue:
    return _page()


def _start(action: str, args: list[str] | None) -> ResponseReturnValue:
    c, user = ctx(), current()
    assert user is not None
    if not EmptyForm().validate_on_submit():
        return _page(400, _("Le formulaire a expiré : recommencez."))
    if args is None:
        return _page(409, _("La mise à jour des listes n'est pas installée sur cet équipement "
                            "(le filtrage est-il activé dans le fichier de site ?)."))
    try:
        c.jobs.start("lists", args, user.login, c.now())
    except Busy:
        return _page(409, _("Une mise à jour des listes est déjà en cours : attendez qu'elle se "
                            "termine."))
    c.audit(user.login, f"lists.{action}", ip=client())
    return redirect("/referent/listes#travail", 303)


@bp.post("/listes/mettre-a-jour")
@needs(Role.REFERENT)
def update() -> ResponseReturnValue:
    return _start("update", update_args())


@bp.post("/listes/revenir")
@needs(Role.REFERENT)
def rollback() -> ResponseReturnValue:
    return _start("rollback", rollback_args())
