"""A console on a temporary store and journal, with a fixed clock, one account per role
(teacher, second teacher, référent with TOTP, chef with TOTP, pupil), and login helpers."""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest

from appliance.directory import accounts, people
from appliance.site import Site
from appliance.state import connect
from appliance.web.i18n import compile_catalogues
from tests.conftest import EXAMPLES
from webui import roles, totp
from webui.app import TRANSLATIONS, create_app
from webui.context import Console

PASSWORD = "Motdepasse-123"
STAND_IN = Path(__file__).with_name("carine_stand_in.py")
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                   r'name="csrf_token" value="([^"]+)"')
SECRETS = {"r.referent": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
           "c.chef": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"}


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **kw: float) -> None:
        self.at += timedelta(**kw)


def make(conn: Any, login: str, profile: str, *grants: str) -> int:
    person = people.Person(None, f"local-{login}", "local", login.split(".")[-1].title(),
                           login.split(".")[0].upper(), profile)
    pid, _ = people.upsert(conn, person, 0)
    aid = accounts.create(conn, pid, login, PASSWORD, 0)
    accounts.set_password(conn, aid, PASSWORD, 0)
    for role in grants:
        roles.grant(conn, aid, role, "test", 0)
    if login in SECRETS:
        totp.enrol(conn, aid, 0, SECRETS[login])
    conn.commit()
    return aid


@pytest.fixture(scope="session", autouse=True)
def catalogues() -> None:
    compile_catalogues(TRANSLATIONS)  # message catalogues are compiled at test time


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def console(tmp_path: Path, lycee_site: Site, clock: Clock) -> Console:
    c = Console(lycee_site, tmp_path / "state.sqlite", tmp_path / "journal",
                site_file=EXAMPLES / "site.yaml", run=tmp_path / "run",
                carine=(sys.executable, str(STAND_IN)),
                voucher_key=b"k" * 32, now=clock)
    conn = connect(c.store)
    make(conn, "m.dupont", "enseignant")
    make(conn, "l.martin", "enseignant")
    make(conn, "r.referent", "personnel", "referent")
    make(conn, "c.chef", "personnel", "chef")
    make(conn, "e.eleve", "eleve")
    conn.close()
    return c


@pytest.fixture
def app(console: Console):
    return create_app(console, secret_key="s" * 64, test_config={"TESTING": True})


def token(page: str) -> str:
    found = TOKEN.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


class Browser:
    """A test client that fills CSRF tokens as a browser would (from the page it shows)."""

    def __init__(self, app: Any, clock: Clock) -> None:
        self.client = app.test_client()
        self.clock = clock

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, base_url="https://localhost", **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, *, page: str | None = None,
             csrf: bool = True) -> Any:
        fields = dict(data or {})
        if csrf:
            source = page or self.get("/connexion").get_data(as_text=True)
            fields["csrf_token"] = token(source)
        return self.client.post(path, data=fields, base_url="https://localhost")

    def login(self, login: str, *, code: bool = True) -> Any:
        page = self.get("/connexion").get_data(as_text=True)
        response = self.post("/connexion", {"login": login, "password": PASSWORD}, page=page)
        if response.status_code == 303 and response.headers["Location"].startswith("/code") \
                and code:
            step = int(self.clock().timestamp())
            form = self.get("/code").get_data(as_text=True)
            response = self.post("/code", {"code": pyotp.TOTP(SECRETS[login]).at(step)},
                                 page=form)
        return response


@pytest.fixture
def browser(app, clock: Clock) -> Browser:
    return Browser(app, clock)
