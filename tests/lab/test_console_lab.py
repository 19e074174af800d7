"""The console in the lab: a teacher signs in to the real console app (on the lab's state store)
and opens a site for the pupils' zone; a lab pupil then reaches it through the lab's Squid, and
once the teacher closes the opening from the console, the site is blocked again (D-FIL-6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from appliance.lab import netns
from appliance.lab.driver import LabDriver
from appliance.site import load_site
from appliance.state import connect
from tests.lab.conftest import SITE
from tests.unit.console.conftest import Browser, make
from webui.app import create_app
from webui.context import Console

pytestmark = pytest.mark.lab

PUPIL = "pedago-1"
TEACHER = "lab.enseignant"


def test_a_teacher_opens_a_site_from_the_console_and_closes_it(lab: LabDriver,
                                                                tmp_path: Path) -> None:
    site = "miniclip.com"  # games: blocked for pupils, not asked before by the other lab tests
    assert lab.curl(PUPIL, f"https://{site}/").ok is False
    conn = connect(lab.store_path)
    if conn.execute("SELECT 1 FROM accounts WHERE login = ?", (TEACHER,)).fetchone() is None:
        make(conn, TEACHER, "enseignant")
    conn.close()
    # The lab's daemons run on the real clock: so does this console (its default).
    console = Console(load_site(SITE), lab.store_path, tmp_path / "journal")
    app = create_app(console, secret_key="s" * 64, test_config={"TESTING": True})
    browser = Browser(app, clock=None)  # type: ignore[arg-type]  # no second factor here
    assert browser.login(TEACHER).status_code == 303
    page = browser.get("/enseignant").get_data(as_text=True)
    opened = browser.post("/enseignant/ouvrir", {"o-zone": "pedago", "o-what": "site",
                                                 "o-domain": site, "o-minutes": "5"}, page=page)
    assert opened.status_code == 200 and "Ouvert" in opened.get_data(as_text=True)
    tries: list[bool] = []

    def reachable() -> bool:
        tries.append(lab.curl(PUPIL, f"https://{site}/").ok)
        return tries[-1]

    netns.wait_for("the console's opening", reachable, timeout=20)
    assert "teacher-opening" in lab.proxy_log()
    shown = browser.get("/enseignant").get_data(as_text=True)
    number = re.search(r'action="/enseignant/fermer/(\d+)"', shown)
    assert number, "the teacher sees the opening and can close it"
    closed = browser.post(f"/enseignant/fermer/{number.group(1)}", {}, page=shown)
    assert closed.status_code == 303
    # Squid's short decision cache ends too: the site is blocked again.
    netns.wait_for("the end of the opening", lambda: not reachable(), timeout=45)
