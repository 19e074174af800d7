"""The base factory's headers, cookies and errors; TOTP (RFC 6238) with replay refused; roles
as a union (D-AUT-6)."""

from __future__ import annotations

import html
import sqlite3
import time

import pyotp
import pytest
from flask import Blueprint, render_template_string

from appliance.directory import accounts, people, schema
from appliance.web.factory import CSP, Face, create_app
from webui import roles, totp

pytestmark = pytest.mark.unit


def face_app(https: bool):
    bp = Blueprint("demo", __name__)

    @bp.get("/")
    def home() -> str:
        return render_template_string("<p>{{ _('Bonjour') }}</p>")

    @bp.post("/form")
    def form() -> str:
        return "posted"

    return create_app(__name__, Face("demo", https=https, locales=("fr", "en")), [bp],
                      secret_key="x" * 64)


def test_headers_and_cookies_of_an_https_face() -> None:
    client = face_app(True).test_client()
    page = client.get("/")
    assert page.headers["Content-Security-Policy"] == CSP
    assert "unsafe-inline" not in CSP and "frame-ancestors 'none'" in CSP
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    assert page.headers["Cache-Control"] == "no-store"
    app = client.application
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]


def test_plain_http_face_sends_no_hsts_and_refuses_a_form_without_token() -> None:
    client = face_app(False).test_client()
    assert "Strict-Transport-Security" not in client.get("/").headers
    refused = client.post("/form", data={})
    assert refused.status_code == 400 and "Le formulaire n'a pas pu être vérifié" in \
        html.unescape(refused.get_data(as_text=True))
    missing = client.get("/nulle-part")
    assert missing.status_code == 404 and "Page introuvable" in missing.get_data(as_text=True)


@pytest.fixture
def conn(tmp_path) -> sqlite3.Connection:
    from appliance.state import connect
    c = connect(tmp_path / "state.sqlite")
    schema.prepare(c)
    roles.prepare(c)
    return c


def account(conn: sqlite3.Connection, login: str, profile: str) -> int:
    person = people.Person(None, f"local-{login}", "local", "Test", login, profile)
    pid, _ = people.upsert(conn, person, 0)
    aid = accounts.create(conn, pid, login, "Motdepasse-123", 0)
    conn.commit()
    return aid


def test_totp_codes_are_accepted_once_and_only_near_their_time(conn) -> None:
    aid = account(conn, "m.referent", "personnel")
    secret = totp.enrol(conn, aid, 0)
    now = 1_790_000_000.0
    code = pyotp.TOTP(secret).at(int(now))
    assert totp.verify(conn, aid, code, now)
    assert not totp.verify(conn, aid, code, now + 1), "a code is refused the second time"
    later = pyotp.TOTP(secret).at(int(now) + 300)
    assert not totp.verify(conn, aid, later, now), "a code from 5 minutes later is refused"
    assert totp.verify(conn, aid, pyotp.TOTP(secret).at(int(now) + 30), now + 30)
    assert not totp.verify(conn, aid, "12345", now + 60) and not totp.verify(conn, aid, "abcdef",
                                                                               now + 60)


def test_roles_are_the_union_of_grants_and_profile(conn) -> None:
    teacher = account(conn, "m.dupont", "enseignant")
    head = account(conn, "p.chef", "personnel")
    pupil = account(conn, "e.eleve", "eleve")
    roles.grant(conn, head, "chef", "root", time.time())
    roles.grant(conn, teacher, "referent", "root", time.time())
    assert roles.of(conn, teacher, "enseignant", "enseignant") == {roles.Role.TEACHER,
                                                                   roles.Role.REFERENT}
    assert roles.of(conn, head, "personnel", "enseignant") == {roles.Role.HEAD}
    assert roles.of(conn, pupil, "eleve", "enseignant") == frozenset()
    with pytest.raises(Exception, match="not a console role"):
        roles.grant(conn, pupil, "admin", "root", 0)
