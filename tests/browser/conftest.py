"""The real console (its app on cheroot over TLS, on loopback) with a fixed clock, driven by
Playwright through Debian's Chromium (Playwright cannot download a browser here), and axe-core
from npm (package.json) injected into each page to judge it against WCAG 2.1 A and AA."""

from __future__ import annotations

import asyncio.events as asyncio_events
import os
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cheroot.ssl.builtin import BuiltinSSLAdapter
from cheroot.wsgi import Server

from appliance.journal.store import Journal
from appliance.site import Site
from appliance.state import connect
from appliance.tls import write_self_signed
from appliance.web.i18n import compile_catalogues
from filtering import store
from tests.conftest import require_tool
from tests.unit.console.conftest import PASSWORD, SECRETS, Clock, make
from webui.app import TRANSLATIONS, create_app
from webui.context import Console

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
CAPTURES = REPO / "docs" / "console" / "captures"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
PUPIL = "10.30.0.57"


@pytest.fixture(scope="package")
def chromium() -> Iterator[Any]:
    """One Chromium for this package's tests, stopped when they end: Playwright's sync API runs
    an asyncio loop in the main thread while it lives, and a session-long one made every later
    ``asyncio.run`` (tests/unit/test_probes_io.py) fail with "cannot be called from a running
    event loop"."""
    path = require_tool("chromium")
    if not AXE.exists():
        pytest.fail("axe-core is missing: run make install (npm ci)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    if asyncio_events._get_running_loop() is not None:
        pytest.fail("Playwright left an asyncio loop running in the main thread")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, lycee_site: Site) -> Iterator[Any]:
    """(base URL, console, clock) of a console on 127.0.0.1 over TLS."""
    compile_catalogues(TRANSLATIONS)
    root = tmp_path_factory.mktemp("console")
    clock = Clock()
    run = root / "run"
    console = Console(lycee_site, root / "state.sqlite", root / "journal",
                      site_file=REPO / "examples" / "site.yaml", run=run,
                      voucher_key=b"k" * 32, now=clock)
    from monitoring import history
    (run / "monitoring").mkdir(parents=True)
    for hours in range(0, 24 * 30, 3):  # a month of probe rounds, a bad afternoon in it
        history.tally(run / "monitoring" / history.FILE,
                      [("educonnect", hours not in (51, 54)), ("ent", hours != 300),
                       ("gar", True)], clock() - timedelta(hours=hours), "Europe/Paris")
    conn = connect(console.store)
    for login, profile, *grants in (("m.dupont", "enseignant"), ("l.martin", "enseignant"),
                                    ("r.referent", "personnel", "referent"),
                                    ("c.chef", "personnel", "chef"), ("e.eleve", "eleve")):
        make(conn, login, profile, *grants)
    now = clock()
    store.request_unblock(conn, PUPIL, "jeux.example", "", "games", "category",
                          "Pour un exposé sur les jeux vidéo", now)
    store.request_unblock(conn, PUPIL, "video.example", "", "audio-video", "category", "", now)
    store.record_block(conn, PUPIL, "jeux.example", "games", "category", "eleve", now)
    conn.close()
    journal = Journal.open(console.journal_root)
    journal.append("session", {"event": "start", "method": "portal", "login": "e.eleve",
                               "profile": "eleve", "ip": PUPIL, "mac": "52:54:00:12:34:56",
                               "zone": "pedago", "session": 1, "reason": None},
                   at=now - timedelta(hours=1))
    pem = root / "tls.pem"
    write_self_signed(pem, "carine.test")
    app = create_app(console, secret_key="s" * 64)
    server = Server(("127.0.0.1", 0), app, numthreads=4, server_name="carine")
    server.ssl_adapter = BuiltinSSLAdapter(str(pem), str(pem))
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.bind_addr[1]}", console, clock
    finally:
        server.stop()
        thread.join(5)


class Session:
    """One person's browser tab on the console."""

    def __init__(self, chromium: Any, served: Any, *, lang: str = "fr-FR",
                 javascript: bool = True) -> None:
        self.base, self.console, self.clock = served
        self.context = chromium.new_context(ignore_https_errors=True, locale=lang,
                                            base_url=self.base, java_script_enabled=javascript,
                                            viewport={"width": 1100, "height": 900})
        self.page = self.context.new_page()

    def close(self) -> None:
        self.context.close()

    def go(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def login(self, login: str) -> None:
        self.go("/connexion")
        self.page.fill("#login", login)
        self.page.fill("#password", PASSWORD)
        self.page.click("button[type=submit] >> text=/connecter|Sign in/")
        if login in SECRETS:
            self.clock.advance(seconds=31)  # a new code: each one is accepted once
            code = pyotp.TOTP(SECRETS[login]).at(int(self.clock().timestamp()))
            self.page.fill("#code", code)
            self.page.click("main button[type=submit]")

    def axe(self) -> list[dict[str, Any]]:
        """axe-core's WCAG 2.1 A/AA violations on the page as it stands."""
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        result: list[dict[str, Any]] = self.page.evaluate(
            "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations.map(v => "
            "({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))}))")
        return result

    def capture(self, name: str) -> None:
        """A screenshot for the guides, rewritten only when asked (CARINE_UPDATE_SCREENSHOTS)."""
        if os.environ.get("CARINE_UPDATE_SCREENSHOTS"):
            CAPTURES.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(CAPTURES / f"{name}.png"), full_page=True)


@pytest.fixture
def session(chromium: Any, served: Any) -> Iterator[Any]:
    opened: list[Session] = []

    def new(**kw: Any) -> Session:
        tab = Session(chromium, served, **kw)
        opened.append(tab)
        return tab

    yield new
    for tab in opened:
        tab.close()
