"""Each role does its daily work in Chromium; axe-core finds no WCAG 2.1 A/AA violation on any
page, in French and in English; the login and the teacher's main task work from the keyboard
alone and without JavaScript; every page weighs at most 100 KB (D-UI-1..3)."""

from __future__ import annotations

from typing import Any

import pytest

from filtering import store

pytestmark = pytest.mark.browser
MAX_PAGE = 100 * 1024
# Pages per role: (path, screenshot name or None)
PAGES: dict[str | None, list[tuple[str, str | None]]] = {
    None: [("/connexion", "connexion"), ("/", None), ("/accessibilite", "accessibilite"),
           ("/aide", None), ("/aide/enseignant", None), ("/aide/referent", None),
           ("/aide/chef", None), ("/aide/technicien", None), ("/nulle-part", None)],
    "m.dupont": [("/", None), ("/enseignant", "enseignant")],
    "r.referent": [("/referent", "referent-etat"), ("/referent/demandes", "referent-demandes"),
                   ("/referent/domaines", "referent-domaines"),
                   ("/referent/utilisateurs?q=e", "referent-utilisateurs"),
                   ("/referent/tickets", "referent-tickets"), ("/referent/site", None),
                   ("/referent/listes", None),
                   ("/referent/utilisateurs/import", "referent-import"),
                   ("/referent/wifi", "referent-wifi"), ("/referent/utilisateurs/fiches", None),
                   ("/referent/appareils", "referent-appareils")],
    "c.chef": [("/chef/journal", "chef-journal"), ("/chef/tickets", None)],
}


def weight(tab: Any) -> int:
    """Bytes of the page and of everything it loaded (decoded: what a cold cache fetches)."""
    return int(tab.page.evaluate(
        "() => performance.getEntriesByType('navigation').concat("
        "performance.getEntriesByType('resource')).reduce((n, e) => n + e.decodedBodySize, 0)"))


@pytest.mark.parametrize("lang", ["fr-FR", "en-GB"])
def test_every_page_passes_axe_and_stays_light(session, lang) -> None:
    found: dict[str, Any] = {}
    heaviest = 0
    for login, pages in PAGES.items():
        tab = session(lang=lang)
        if login is not None:
            tab.login(login)
        for path, shot in pages:
            tab.go(path)
            size = weight(tab)
            heaviest = max(heaviest, size)
            assert 0 < size <= MAX_PAGE, (path, size)
            assert tab.page.evaluate("document.documentElement.lang") == lang[:2], path
            violations = tab.axe()
            if violations:
                found[f"{login} {path}"] = violations
            if shot and lang == "fr-FR":
                tab.capture(shot)
    assert found == {}
    print(f"axe: 0 violations on {sum(map(len, PAGES.values()))} pages ({lang}); "
          f"heaviest page {heaviest} bytes")


def tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus (the keyboard user's way to reach it)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def test_login_and_opening_a_site_with_the_keyboard_only(session, served) -> None:
    _, console, clock = served
    tab = session()
    tab.go("/connexion")
    tab_to(tab.page, "#login")
    tab.page.keyboard.type("l.martin")
    tab_to(tab.page, "#password")
    tab.page.keyboard.type("Motdepasse-123")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/")
    tab_to(tab.page, "a[href='/enseignant']")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_url("**/enseignant")
    tab_to(tab.page, "#o-domain")
    tab.page.keyboard.type("fr.vikidia.org")
    tab_to(tab.page, "#o-minutes")
    tab.page.keyboard.type("55")
    tab.page.keyboard.press("Enter")
    tab.page.wait_for_selector("p.succes")
    assert "fr.vikidia.org" in tab.page.inner_text("p.succes")
    mine = [r for r in store.running_openings(console.conn_for_tests(), clock())
            if r["by"] == "l.martin"]
    assert [(r["domain"], r["zone"]) for r in mine] == [("fr.vikidia.org", "pedago")]


def test_teacher_opens_and_closes_without_javascript(session, served) -> None:
    _, console, clock = served
    tab = session(javascript=False)
    tab.login("m.dupont")
    tab.go("/enseignant")
    tab.page.select_option("#o-what", "internet")
    tab.page.fill("#o-minutes", "30")
    tab.page.click("text=Ouvrir >> nth=-1") if False else tab.page.click(
        "form[action='/enseignant/ouvrir'] button")
    assert "tout internet" in tab.page.inner_text("p.succes")
    tab.capture("enseignant-ouverture")
    tab.page.click("form[action^='/enseignant/fermer'] button")
    assert not [r for r in store.running_openings(console.conn_for_tests(), clock())
                if r["by"] == "m.dupont"]
    tab.page.select_option("#r-room", index=0)
    tab.page.select_option("#r-state", "off")
    tab.page.click("form[action='/enseignant/wifi'] button")
    assert "Wi-Fi de la salle" in tab.page.inner_text("p.succes")


def test_referent_answers_requests_and_issues_vouchers(session, served) -> None:
    _, console, clock = served
    tab = session()
    tab.login("r.referent")
    tab.go("/referent/demandes")
    first = tab.page.locator("section").filter(has_text="jeux.example")
    first.locator("input[name=minutes]").fill("45")
    first.locator("button", has_text="Accorder").click()
    assert "Débloqué : jeux.example" in tab.page.inner_text("p.succes")
    second = tab.page.locator("section").filter(has_text="video.example")
    second.locator("textarea").fill("Hors du cadre pédagogique.")
    second.locator("button", has_text="Refuser").click()
    assert "refusée" in tab.page.inner_text("p.succes")
    tab.go("/referent/domaines")
    tab.page.fill("#domain", "pas un domaine")
    tab.page.click("main form button")
    assert "n'est pas un nom de domaine" in tab.page.inner_text("main")
    tab.page.fill("#domain", "lumni.fr")
    tab.page.click("main form button")
    assert "lumni.fr" in tab.page.inner_text("p.succes")
    tab.go("/referent/tickets")
    tab.page.fill("#count", "4")
    tab.page.fill("#minutes", "120")
    tab.page.click("main form button")
    assert tab.page.locator(".tickets li").count() == 4
    tab.capture("referent-fiche-tickets")
    tab.go("/referent/utilisateurs?q=eleve")
    tab.page.click("main table button")
    assert "Mot de passe provisoire" in tab.page.inner_text("main")
    answers = {r["host"]: r["status"] for r in store.answers_for(
        console.conn_for_tests(), "10.30.0.57", clock().replace(year=2000))}
    assert answers == {"jeux.example": "granted", "video.example": "refused"}


def test_chef_answers_a_requisition(session, served) -> None:
    tab = session()
    tab.login("c.chef")
    tab.go("/chef/journal")
    tab.page.fill("#value", "10.30.0.57")
    tab.page.fill("#start", "2026-12-07 09:30")
    tab.page.click("main form button >> nth=0")
    assert "Indiquez le motif" in tab.page.inner_text("main")
    tab.page.fill("#reason", "RQ-2026-118")
    tab.page.click("main form button >> nth=0")
    assert "e.eleve" in tab.page.inner_text("main table")
    assert tab.axe() == []
    tab.capture("chef-resultats")
    tab.page.select_option("#kind", "user")
    tab.page.fill("#value", "e.eleve")
    tab.page.fill("#start", "2026-12-07 08:00")
    tab.page.fill("#end", "2026-12-07 11:00")
    with tab.page.expect_download() as download:
        tab.page.click("main form button >> nth=1")
    assert download.value.suggested_filename.startswith("extraction-")


def test_chef_approves_the_guest_vouchers(session, served) -> None:
    tab = session()
    tab.login("c.chef")
    tab.go("/chef/tickets")
    assert "r.referent" in tab.page.inner_text("main table")  # the référent's batch above
    assert tab.axe() == []
    tab.capture("chef-tickets")
    tab.page.click("main form[action$='/valider'] button >> nth=0")
    assert "ses tickets fonctionnent" in tab.page.inner_text("p.succes")
