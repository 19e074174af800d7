"""The référent numérique's view: status, the unblock request queue (grant for a time, refuse
with a reason the pupil reads on /bloques), the school's allow/block domains, users (search,
reset a password), guest vouchers (printable). Every change is journaled (D-LOG-3)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from appliance.directory import accounts, passwords
from appliance.errors import CarineError
from filtering import operations, store
from filtering.names import normalise_domain
from network.portal import vouchers
from webui import status as health
from webui.auth import client, ctx
from webui.forms import DomainForm, EmptyForm, GrantForm, RefuseForm, SearchForm, VoucherForm
from webui.guard import User, current, needs
from webui.roles import Role

bp = Blueprint("referent", __name__, url_prefix="/referent")
Page = ResponseReturnValue
MAX_USERS_SHOWN = 50
PER_PAGE = 20  # requests per page: a morning's queue stays a light page (D-UI-3)


def _me() -> User:
    user = current()
    assert user is not None
    return user


@bp.get("")
@needs(Role.REFERENT)
def status() -> Page:
    c = ctx()
    conn, now = c.conn(), c.now()
    counts = {
        "accounts": conn.execute("SELECT count(*) FROM accounts WHERE state = 'active'"
                                 ).fetchone()[0],
        "devices": conn.execute("SELECT count(*) FROM devices WHERE state = 'active'"
                                ).fetchone()[0],
        "requests": len(store.unblock_requests(conn)),
        "openings": len(store.running_openings(conn, now)),
        "blocked": conn.execute("SELECT count(*) FROM filter_recent_blocks").fetchone()[0],
    }
    categories = conn.execute("SELECT category, count(*) AS n FROM filter_recent_blocks GROUP BY "
                              "category ORDER BY n DESC LIMIT 10").fetchall()
    state, today = c.store.parent, now.astimezone(c.zone).date()
    services = health.availability(c.run, today)
    charts = [(name, health.chart(name, days, _("Disponibilité de %(name)s sur 30 jours",
                                                 name=name)), health.uptime(days))
              for name, days in services.items()]
    return render_template(
        "console/etat.html", user=_me(), counts=counts, categories=categories, charts=charts,
        daemons=health.daemons(c.run), certs=health.certificates(state, now),
        lists=health.lists(state), applied=health.last_apply(state),
        logins=health.logins_today(c.journal_root, now.date()),
        local=lambda text: c.local(datetime.fromisoformat(text))), 200


def _queue(error: str | None = None, done: str | None = None, status: int = 200,
           grant: GrantForm | None = None, refuse: RefuseForm | None = None) -> Page:
    c = ctx()
    pending = store.unblock_requests(c.conn())
    pages = max(1, -(-len(pending) // PER_PAGE))
    try:
        number = min(max(1, int(request.args.get("page", "1"))), pages)
    except ValueError:
        number = 1
    shown = pending[(number - 1) * PER_PAGE:number * PER_PAGE]
    return render_template("console/demandes.html", user=_me(), rows=shown, page=number,
                           pages=pages, total=len(pending), grant=grant or GrantForm(),
                           refuse=refuse or RefuseForm(), error=error, done=done,
                           local=lambda t: c.local(datetime.fromisoformat(t))), status


@bp.get("/demandes")
@needs(Role.REFERENT)
def queue() -> Page:
    return _queue()


@bp.post("/demandes/<int:number>/accorder")
@needs(Role.REFERENT)
def grant(number: int) -> Page:
    form = GrantForm()
    if not form.validate_on_submit():
        return _queue(_("Rien n'a été accordé : corrigez la durée."), status=400, grant=form)
    c, me = ctx(), _me()
    now = c.now()
    until = now + timedelta(minutes=int(form.minutes.data or 0))
    try:  # the same function as `carine filter requests grant`
        done = operations.grant(c.conn(), c.filter_config, number, me.login, now, until)
    except CarineError as exc:
        if "national" in exc.message:
            return _queue(_("Ce site est bloqué au niveau national : la demande ne peut pas "
                            "être accordée ; refusez-la avec ce motif."), status=400)
        return _queue(_("Cette demande n'est plus en attente ou ne peut pas être accordée "
                        "pour un temps."), status=404)
    c.audit(me.login, "filter.grant", target=done.host, zone=done.zone or "",
            until=until.isoformat(), request=number, ip=client())
    return _queue(done=_("Débloqué : %(host)s pour la zone %(zone)s jusqu'à %(until)s.",
                         host=done.host, zone=done.zone or "", until=c.local(until)))


@bp.post("/demandes/<int:number>/refuser")
@needs(Role.REFERENT)
def refuse(number: int) -> Page:
    form = RefuseForm()
    if not form.validate_on_submit():
        return _queue(_("Rien n'a été refusé : indiquez un motif (300 caractères au plus)."),
                      status=400, refuse=form)
    c, me = ctx(), _me()
    reason = " ".join(str(form.reason.data).split())
    try:
        operations.refuse(c.conn(), number, me.login, c.now(), reason)
    except CarineError:
        return _queue(_("Cette demande n'est plus en attente."), status=404)
    c.audit(me.login, "filter.refuse", request=number, ip=client())
    return _queue(done=_("Demande n° %(number)d refusée.", number=number))


def _domains(form: DomainForm, status: int = 200, error: str | None = None,
             done: str | None = None) -> Page:
    allowed, blocked = store.exceptions(ctx().conn())
    return render_template("console/domaines.html", user=_me(), form=form, allowed=allowed,
                           blocked=blocked, error=error, done=done), status


@bp.route("/domaines", methods=["GET", "POST"])
@needs(Role.REFERENT)
def domains() -> Page:
    form = DomainForm()
    if request.method == "GET":
        return _domains(form)
    if not form.validate_on_submit():
        return _domains(form, 400, _("Rien n'a été changé : corrigez le formulaire."))
    try:
        domain = normalise_domain(str(form.domain.data).strip())
    except ValueError:
        form.domain.errors = [_("« %(text)s » n'est pas un nom de domaine (par exemple "
                                "exemple.fr).", text=str(form.domain.data))]
        return _domains(form, 400, _("Rien n'a été changé : corrigez le formulaire."))
    c, me = ctx(), _me()
    action = str(form.action.data)
    store.set_exception(c.conn(), domain, action, me.login, c.now())
    c.audit(me.login, f"filter.{action}", target=domain, ip=client())
    return _domains(DomainForm(formdata=None), 200, done=_(
        "%(domain)s : %(action)s pour tout l'établissement.", domain=domain,
        action=_("autorisé") if action == "allow" else _("bloqué")))


@bp.get("/utilisateurs")
@needs(Role.REFERENT)
def users() -> Page:
    form = SearchForm(request.args, meta={"csrf": False})
    rows: list[object] = []
    if form.q.data and form.validate():
        like = "%" + str(form.q.data).strip().lower().replace("%", "").replace("_", r"\_") + "%"
        rows = ctx().conn().execute(
            "SELECT a.id, a.login, a.state, a.locked_until, p.first_name, p.last_name, p.profile"
            " FROM accounts a LEFT JOIN people p ON p.id = a.person_id WHERE a.login LIKE ? "
            "ESCAPE '\\' OR lower(p.last_name) LIKE ? ESCAPE '\\' ORDER BY a.login LIMIT ?",
            (like, like, MAX_USERS_SHOWN)).fetchall()
    status = 400 if form.errors else 200
    return render_template("console/utilisateurs.html", user=_me(), form=form, rows=rows,
                           reset=EmptyForm()), status


@bp.post("/utilisateurs/<int:account_id>/mot-de-passe")
@needs(Role.REFERENT)
def reset_password(account_id: int) -> Page:
    if not EmptyForm().validate_on_submit():
        return redirect("/referent/utilisateurs", 303)
    c, me = ctx(), _me()
    row = c.conn().execute("SELECT login FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        return render_template("console/message.html", user=me, title=_("Compte introuvable"),
                               text=_("Ce compte n'existe pas."), back="/referent/utilisateurs"
                               ), 404
    new = passwords.initial_password()
    accounts.set_password(c.conn(), account_id, new, c.now().timestamp(), must_change=True)
    c.audit(me.login, "directory.reset-password", target=row["login"], ip=client())
    # The sheet is shown once, to print; the password is never stored in clear nor journaled.
    return render_template("console/fiche.html", user=me, login=row["login"], password=new,
                           school=c.site.school.name), 200


@bp.route("/tickets", methods=["GET", "POST"])
@needs(Role.REFERENT)
def tickets() -> Page:
    c, me = ctx(), _me()
    form = VoucherForm()
    guest = [p for p in c.site.filtering.profiles if "invit" in p or "guest" in p]
    form.profile.choices = [(p, p) for p in (guest or list(c.site.filtering.profiles))]
    batches = vouchers.batches(c.conn())
    if request.method == "GET":
        return render_template("console/tickets.html", user=me, form=form,
                               batches=batches), 200
    if not form.validate_on_submit():
        return render_template("console/tickets.html", user=me, form=form, batches=batches,
                               error=_("Aucun ticket n'a été créé : corrigez le formulaire.")
                               ), 400
    try:
        batch, codes = vouchers.create(c.conn(), c.voucher_key, count=int(form.count.data or 0),
                                       minutes=int(form.minutes.data or 0),
                                       profile=str(form.profile.data), valid_days=7,
                                       by=me.login, now=c.now().timestamp(),
                                       # The head of school approves guest access (D-AUT-1):
                                       # a référent who is also chef approves by creating.
                                       approval=Role.HEAD not in me.roles)
    except CarineError as exc:
        return render_template("console/tickets.html", user=me, form=form, batches=batches,
                               error=exc.message), 400
    c.audit(me.login, "vouchers.create", target=batch, count=len(codes), ip=client())
    return render_template("console/fiche-tickets.html", user=me, codes=codes, batch=batch,
                           minutes=int(form.minutes.data or 0), profile=str(form.profile.data),
                           until=c.local(c.now() + timedelta(days=7)),
                           waiting=Role.HEAD not in me.roles), 200
