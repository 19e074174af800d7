"""The portal's pages through Flask's test client: CSRF enforced, login, charter and forced
password change, lockout, rate limit, logout, vouchers, the RFC 8908 API, foreign hosts."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from appliance.directory import accounts
from network.portal import vouchers
from tests.unit.portal.conftest import PUPIL_IP, at, make_account

pytestmark = pytest.mark.unit


def token(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1).decode()


def login(browser, user: str, password: str):
    csrf = token(browser.get("/connexion").data)
    return browser.post("/connexion", data={"csrf_token": csrf, "login": user,
                                            "password": password})


def test_a_post_without_its_csrf_token_is_refused(browser, access) -> None:
    make_account(access, "eleve.a", "eleve", "Motdepasse-1")
    answer = browser.post("/connexion", data={"login": "eleve.a", "password": "Motdepasse-1"})
    assert answer.status_code == 400
    assert "Formulaire expiré".encode() in answer.data
    assert access.current(PUPIL_IP) is None


def test_login_opens_a_session_and_the_gate(browser, access, nft) -> None:
    make_account(access, "eleve.a", "eleve", "Motdepasse-1")
    answer = login(browser, "eleve.a", "Motdepasse-1")
    assert answer.status_code == 303 and answer.location.endswith("/statut")
    session = access.current(PUPIL_IP)
    assert session is not None and session.profile == "eleve" and session.zone == "guest"
    assert session.idle_timeout == 15 * 60  # eleve: 15 minutes in the example site
    assert f"add element inet carine authorised {{ {PUPIL_IP} timeout 900s }}" in nft.batches[-1]
    assert f"portal_idle_15 {{ {PUPIL_IP} timeout 36000s }}" in nft.batches[-1]
    kinds = [(k, f.get("event") or f.get("outcome")) for k, f in access.events.records]
    assert ("session", "start") in kinds and ("auth", "success") in kinds
    page = browser.get("/statut")
    assert "Vous êtes connecté".encode() in page.data and b"eleve.a" in page.data


def test_first_login_asks_for_the_charter_then_a_new_password(browser, access) -> None:
    account_id = make_account(access, "eleve.b", "eleve", "Initial-pass-9", charter=False,
                              must_change=True)
    answer = login(browser, "eleve.b", "Initial-pass-9")
    assert answer.location.endswith("/charte")
    assert access.current(PUPIL_IP) is None  # nothing opens before the charter
    page = browser.get("/charte")
    assert b"Charte d'usage" in page.data and b"circulaire" in page.data
    refused = browser.post("/charte", data={"csrf_token": token(page.data)})
    assert refused.status_code == 400  # the box is mandatory
    accepted = browser.post("/charte", data={"csrf_token": token(page.data), "accept": "y"})
    assert accepted.location.endswith("/mot-de-passe")
    row = access.conn().execute("SELECT charter_version, charter_at FROM accounts WHERE id = ?",
                                (account_id,)).fetchone()
    assert row[0] == access.config.charter_version and row[1] is not None
    form = browser.get("/mot-de-passe")
    weak = browser.post("/mot-de-passe", data={"csrf_token": token(form.data), "new": "court",
                                               "confirm": "court"})
    assert weak.status_code == 400 and b"au moins 8" in weak.data
    done = browser.post("/mot-de-passe", data={"csrf_token": token(form.data),
                                               "new": "Nouveau-secret-42",
                                               "confirm": "Nouveau-secret-42"})
    assert done.location.endswith("/statut") and access.current(PUPIL_IP) is not None
    assert accounts.authenticate(access.conn(), "eleve.b", "Nouveau-secret-42", 0).ok


def test_wrong_passwords_are_journaled_and_lock_the_account(browser, access) -> None:
    make_account(access, "eleve.c", "eleve", "Motdepasse-1")
    for _ in range(access.config.lockout_attempts):
        assert login(browser, "eleve.c", "faux").status_code == 401
    locked = login(browser, "eleve.c", "Motdepasse-1")
    assert locked.status_code == 401 and "verrouillé".encode() in locked.data
    failures = [f for k, f in access.events.records if k == "auth" and f["outcome"] == "failure"]
    assert [f["reason"] for f in failures][-1] == "locked"
    assert all("faux" not in json.dumps(f) for f in failures)  # never a password
    unknown = login(browser, "Motdepasse-1", "x")  # a password typed as a login
    assert unknown.status_code == 401
    assert access.events.records[-1][1]["login"] is None


def test_attempts_are_rate_limited_per_address(app, access) -> None:
    make_account(access, "eleve.d", "eleve", "Motdepasse-1")
    one = at(app, "10.40.0.60", "carine.perrin.lan:8090")
    other = at(app, "10.40.0.61", "carine.perrin.lan:8090")
    codes = [login(one, "inconnu", "x").status_code
             for _ in range(access.config.attempts_per_minute + 1)]
    assert codes[-1] == 429 and codes[:-1] == [401] * access.config.attempts_per_minute
    assert access.events.records[-1][1]["reason"] == "rate-limited"
    assert login(other, "eleve.d", "Motdepasse-1").status_code == 303  # others unaffected


def test_logout_closes_the_session_and_the_gate(browser, access, nft) -> None:
    make_account(access, "eleve.e", "eleve", "Motdepasse-1")
    login(browser, "eleve.e", "Motdepasse-1")
    status = browser.get("/statut")
    answer = browser.post("/deconnexion", data={"csrf_token": token(status.data)})
    assert "déconnecté".encode() in answer.data
    assert access.current(PUPIL_IP) is None
    assert f"delete element inet carine authorised {{ {PUPIL_IP} }}" in nft.batches[-1]
    assert PUPIL_IP not in nft.members


def test_a_voucher_works_once(browser, access) -> None:
    _, codes = vouchers.create(access.conn(), b"k" * 32, count=2, minutes=60, profile="invite",
                               valid_days=1, by="referent", now=access.clock())
    page = browser.get("/ticket")
    first = browser.post("/ticket", data={"csrf_token": token(page.data),
                                          "code": codes[0].lower(), "accept": "y"})
    assert first.location.endswith("/statut")
    session = access.current(PUPIL_IP)
    assert session is not None and session.method.value == "voucher"
    assert session.expires_at - session.started_at == 3600
    again = browser.post("/ticket", data={"csrf_token": token(page.data), "code": codes[0],
                                          "accept": "y"})
    assert again.status_code == 401 and "déjà servi".encode() in again.data


def test_a_voucher_waiting_for_the_heads_approval_works_only_once_approved(browser, access
                                                                           ) -> None:
    conn, now = access.conn(), access.clock()
    batch, codes = vouchers.create(conn, b"k" * 32, count=2, minutes=60, profile="invite",
                                   valid_days=1, by="referent", now=now, approval=True)
    assert [r["batch"] for r in vouchers.pending(conn)] == [batch]
    page = browser.get("/ticket")
    waiting = browser.post("/ticket", data={"csrf_token": token(page.data), "code": codes[0],
                                            "accept": "y"})
    assert waiting.status_code == 401 and "pas encore été validé".encode() in waiting.data
    vouchers.decide(conn, batch, "c.chef", True, now)
    assert vouchers.pending(conn) == []
    ok = browser.post("/ticket", data={"csrf_token": token(page.data), "code": codes[1],
                                       "accept": "y"})
    assert ok.location.endswith("/statut")
    other, more = vouchers.create(conn, b"k" * 32, count=1, minutes=60, profile="invite",
                                  valid_days=1, by="referent", now=now, approval=True)
    vouchers.decide(conn, other, "c.chef", False, now)
    assert vouchers.redeem(conn, b"k" * 32, more[0], "10.0.0.9", None, now) == "refused"


def test_the_captive_api_says_captive_then_not(browser, access) -> None:
    before = browser.get("/api/captive")
    assert before.mimetype == "application/captive+json"
    assert json.loads(before.data) == {"captive": True,
                                       "user-portal-url": "http://carine.perrin.lan:8090/"}
    make_account(access, "eleve.f", "eleve", "Motdepasse-1")
    login(browser, "eleve.f", "Motdepasse-1")
    after = json.loads(browser.get("/api/captive").data)
    assert after["captive"] is False and after["seconds-remaining"] == 36000


def test_web_for_another_host_is_sent_to_the_portal(app) -> None:
    intercepted = at(app, PUPIL_IP, "www.example.org")
    answer = intercepted.get("/jouer")
    assert answer.status_code == 302
    assert answer.location == "http://carine.perrin.lan:8090/connexion"


def test_a_pupil_account_cannot_log_in_where_its_profile_is_not_allowed(access, app) -> None:
    make_account(access, "perso.a", "personnel", "Motdepasse-1")  # guest: invite, eleve, prof
    browser = at(app, PUPIL_IP, "carine.perrin.lan:8090")
    assert login(browser, "perso.a", "Motdepasse-1").status_code == 403
    assert access.current(PUPIL_IP) is None


def test_the_end_of_the_session_is_the_schools_time(browser, access, clock) -> None:
    """'Fin de la session' in Paris time (it showed the box's UTC as if it were local)."""
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC).timestamp()  # 10:00 in Paris
    make_account(access, "eleve.a", "eleve", "Motdepasse-1")
    login(browser, "eleve.a", "Motdepasse-1")
    session = access.current(PUPIL_IP)
    assert session is not None
    ends = datetime.fromtimestamp(session.expires_at, UTC)
    local = ends.astimezone(ZoneInfo("Europe/Paris"))
    assert local.utcoffset() == timedelta(hours=1) and local.date() == ends.date()
    text = browser.get("/statut").data.decode()
    assert f"<dd>{local:%H:%M} (dans" in text
    assert f"<dd>{ends:%H:%M} (dans" not in text
