"""The console end to end through Flask's client: sign-in with lockout and TOTP (replay
refused), every route × every role (D-AUT-6), CSRF, teacher openings, the referent's queue, the
chef's journal reads recorded with their reason (D-LOG-2), bad input refused in French."""

from __future__ import annotations

import html
import os
import re
import signal
import sys
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from filtering import store
from filtering.policy import INTERNET, Opening, Policy
from tests.unit.console.conftest import PASSWORD, SECRETS, Browser

pytestmark = pytest.mark.unit

ROLES = {"m.dupont": {"enseignant"}, "r.referent": {"referent"}, "c.chef": {"chef"},
         "e.eleve": set(), None: set()}


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_every_route_answers_each_role_as_its_rights_say(app, clock) -> None:
    routes = [(rule.rule, rule.endpoint, sorted(rule.methods - {"HEAD", "OPTIONS"}))
              for rule in app.url_map.iter_rules() if rule.endpoint != "pages.static"]
    guarded = {endpoint: getattr(app.view_functions[endpoint], "carine_roles", None)
               for _, endpoint, _ in routes}
    assert any(g for g in guarded.values()), "the console has guarded routes"
    for login, held in ROLES.items():
        browser = Browser(app, clock)
        if login is not None:
            browser.login(login)
        for rule, endpoint, methods in routes:
            needed = guarded[endpoint]
            if needed is None:
                continue
            path = re.sub(r"<int:[a-z_]+>", "1", rule)
            for method in methods:
                if method == "GET":
                    response = browser.get(path)
                else:
                    response = browser.post(path, {}, page=browser.get(
                        "/connexion").get_data(as_text=True))
                if login is None or login == "e.eleve":
                    assert response.status_code in (303, 400), (login, method, path)
                    if method == "GET":
                        assert response.headers["Location"].startswith("/connexion")
                elif needed and not ({r.value for r in needed} & held):
                    assert response.status_code == 403, (login, method, path)
                else:
                    assert response.status_code != 403, (login, method, path)


def test_a_pupil_cannot_open_the_console(browser) -> None:
    response = browser.login("e.eleve")
    assert response.status_code == 403 and "n'a pas accès à la console" in text(response)
    assert browser.get("/enseignant").status_code == 303


def test_teacher_cannot_read_the_journal(browser) -> None:
    browser.login("m.dupont")
    assert browser.get("/chef/journal").status_code == 403


def test_lockout_after_repeated_failures_uses_the_directory_counters(browser, console) -> None:
    page = browser.get("/connexion").get_data(as_text=True)
    for _ in range(5):
        response = browser.post("/connexion", {"login": "m.dupont", "password": "faux"},
                                page=page)
    assert response.status_code == 401 and "verrouillé" in text(response)
    good = browser.post("/connexion", {"login": "m.dupont", "password": PASSWORD}, page=page)
    assert good.status_code == 401 and "verrouillé" in text(good)
    row = console.conn.__self__
    assert row is console


def test_referent_needs_a_totp_code_and_a_code_is_refused_twice(app, clock) -> None:
    first = Browser(app, clock)
    response = first.post("/connexion", {"login": "r.referent", "password": PASSWORD},
                          page=first.get("/connexion").get_data(as_text=True))
    assert response.status_code == 303 and response.headers["Location"].startswith("/code")
    assert first.get("/referent").status_code == 303, "no access before the code"
    code = pyotp.TOTP(SECRETS["r.referent"]).at(int(clock().timestamp()))
    ok = first.post("/code", {"code": code}, page=first.get("/code").get_data(as_text=True))
    assert ok.status_code == 303 and first.get("/referent").status_code == 200
    second = Browser(app, clock)
    second.post("/connexion", {"login": "r.referent", "password": PASSWORD},
                page=second.get("/connexion").get_data(as_text=True))
    replay = second.post("/code", {"code": code}, page=second.get("/code").get_data(
        as_text=True))
    assert replay.status_code == 401 and "déjà utilisé" in text(replay)


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(browser, console) -> None:
    browser.login("m.dupont")
    response = browser.post("/enseignant/ouvrir", {"o-zone": "pedago", "o-what": "internet",
                                                   "o-minutes": "30"}, csrf=False)
    assert response.status_code == 400
    assert store.running_openings(console.conn_for_tests(), console.now()) == []


def open_form(browser: Browser, **fields: str):
    page = browser.get("/enseignant").get_data(as_text=True)
    data = {"o-zone": "pedago", "o-what": "site", "o-domain": "", "o-minutes": "30"}
    data.update({f"o-{k}": v for k, v in fields.items()})
    return browser.post("/enseignant/ouvrir", data, page=page)


def test_teacher_opens_a_site_and_another_teacher_cannot_close_it(app, clock, console) -> None:
    teacher = Browser(app, clock)
    teacher.login("m.dupont")
    done = open_form(teacher, domain="Jeux.Example")
    assert done.status_code == 200 and "Ouvert : jeux.example" in text(done)
    running = store.running_openings(console.conn_for_tests(), clock())
    assert [(r["domain"], r["zone"], r["by"]) for r in running] == \
        [("jeux.example", "pedago", "m.dupont")]
    other = Browser(app, clock)
    other.login("l.martin")
    refused = other.post(f"/enseignant/fermer/{running[0]['id']}", {},
                         page=other.get("/enseignant").get_data(as_text=True))
    assert refused.status_code == 404 and "n'est pas la vôtre" in text(refused)
    assert len(store.running_openings(console.conn_for_tests(), clock())) == 1
    closed = teacher.post(f"/enseignant/fermer/{running[0]['id']}", {},
                          page=teacher.get("/enseignant").get_data(as_text=True))
    assert closed.status_code == 303
    assert store.running_openings(console.conn_for_tests(), clock()) == []
    actions = [r["action"] for r in admin_records(console)]
    assert actions == ["filter.open", "filter.close"]


def admin_records(console) -> list[dict[str, Any]]:
    day = console.now().date()
    return [row for row in query_kind(console, "admin", day)]


def query_kind(console, kind: str, day) -> list[dict[str, Any]]:
    from appliance.journal import segment
    path = segment.segment_path(console.journal_root, kind, day)
    if not path.exists():
        return []
    conn = segment.connect(path, kind, day, create=False)
    try:
        return [record.fields() for record, _, _ in segment.iter_records(conn, kind)]
    finally:
        conn.close()


@pytest.mark.parametrize(("fields", "message"), [
    ({"domain": "pas un domaine !"}, "n'est pas un nom de site"),
    ({"domain": "a" * 300}, "trop long"),
    ({"domain": "fr.wikipedia.org", "minutes": "600"}, "La durée va de 5 à 240 minutes"),
    ({"domain": "fr.wikipedia.org", "minutes": "trente"}, "N'est pas un entier valide"),
    ({"zone": "staff-inconnue"}, "Not a valid choice"),
])
def test_bad_opening_input_gets_a_french_message_and_changes_nothing(
        browser, console, fields, message) -> None:
    browser.login("m.dupont")
    response = open_form(browser, **fields)
    assert response.status_code == 400 and "L'ouverture n'a pas été faite" in text(response)
    assert message in text(response) or fields.get("zone")
    assert store.running_openings(console.conn_for_tests(), console.now()) == []


def test_an_internet_opening_opens_every_site_but_the_national_layer(lycee_site, clock) -> None:
    policy = Policy(lycee_site.filtering,
                    [Opening(INTERNET, "pedago", clock() + timedelta(hours=1), "m.dupont")])
    profile = next(iter(lycee_site.filtering.profiles))
    verdict = policy.decide(profile, "pedago", "jeux.example", frozenset({"games"}), clock())
    assert verdict.allowed and verdict.reason == "teacher-opening"
    elsewhere = policy.decide(profile, "autre", "jeux.example", frozenset({"games"}), clock())
    assert elsewhere.reason != "teacher-opening"


def test_referent_grants_and_refuses_requests_the_pupil_sees(app, clock, console) -> None:
    conn = console.conn_for_tests()
    first = store.request_unblock(conn, "10.30.0.57", "jeux.example", "", "games",
                                  "category", "pour un exposé", clock())
    second = store.request_unblock(conn, "10.30.0.57", "video.example", "", "audio-video",
                                   "category", "", clock())
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/demandes").get_data(as_text=True)
    granted = browser.post(f"/referent/demandes/{first}/accorder", {"minutes": "60"}, page=page)
    assert granted.status_code == 200 and "Débloqué : jeux.example" in text(granted)
    bad = browser.post(f"/referent/demandes/{second}/refuser", {"reason": ""}, page=page)
    assert bad.status_code == 400 and "indiquez un motif" in text(bad)
    refused = browser.post(f"/referent/demandes/{second}/refuser",
                           {"reason": "Hors du cadre pédagogique."}, page=page)
    assert refused.status_code == 200
    answers = {r["host"]: (r["status"], r["answer"])
               for r in store.answers_for(conn, "10.30.0.57", clock() - timedelta(days=1))}
    assert answers == {"jeux.example": ("granted", ""),
                       "video.example": ("refused", "Hors du cadre pédagogique.")}
    assert [o.domain for o in store.openings(conn, clock())] == ["jeux.example"]


def test_referent_domain_form_refuses_what_is_not_a_domain(app, clock, console) -> None:
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/domaines").get_data(as_text=True)
    bad = browser.post("/referent/domaines", {"domain": "http://a b", "action": "allow"},
                       page=page)
    assert bad.status_code == 400 and "n'est pas un nom de domaine" in text(bad)
    assert store.exceptions(console.conn_for_tests()) == ([], [])
    good = browser.post("/referent/domaines", {"domain": "Exemple.FR", "action": "block"},
                        page=page)
    assert good.status_code == 200
    assert store.exceptions(console.conn_for_tests()) == ([], ["exemple.fr"])


def test_chef_searches_only_with_a_reason_and_each_read_is_journaled(app, clock, console) -> None:
    browser = Browser(app, clock)
    browser.login("c.chef")
    page = browser.get("/chef/journal").get_data(as_text=True)
    search = {"kind": "ip", "value": "10.30.0.57", "start": "2026-12-07 09:30", "end": ""}
    missing = browser.post("/chef/journal", {**search, "reason": ""}, page=page)
    assert missing.status_code == 400 and "Indiquez le motif" in text(missing)
    assert query_kind(console, "read", clock().date()) == []
    done = browser.post("/chef/journal", {**search, "reason": "RQ-2026-118"}, page=page)
    assert done.status_code == 200 and "Aucun enregistrement" in text(done)
    reads = query_kind(console, "read", clock().date())
    assert [(r["actor"], r["reason"], r["outcome"]) for r in reads] == \
        [("c.chef", "RQ-2026-118", "answered")]
    bad = browser.post("/chef/journal", {**search, "value": "pas une ip",
                                         "reason": "RQ-2026-118"}, page=page)
    assert bad.status_code == 400 and "n'est pas une adresse IP" in text(bad)
    export = browser.post("/chef/journal/export", {**search, "kind": "user",
                                                   "value": "e.eleve", "reason": "RQ-2026-118",
                                                   "end": "2026-12-07 10:30"}, page=page)
    assert export.status_code == 200 and export.mimetype == "application/zip"
    assert len(export.headers["X-Carine-Sha256"]) == 64



def test_session_times_out_after_idle_minutes(browser, clock) -> None:
    browser.login("m.dupont")
    assert browser.get("/enseignant").status_code == 200
    clock.advance(minutes=21)
    assert browser.get("/enseignant").status_code == 303


def test_english_is_second(browser) -> None:
    browser.login("m.dupont")
    page = browser.get("/enseignant?lang=en")
    assert page.status_code == 200 and 'lang="en"' in text(page)
    assert "Open a site for a lesson" in text(page)
    assert "Ouvrir un site pour une séance" in text(browser.get("/enseignant?lang=fr"))


def test_the_english_catalogue_translates_every_message() -> None:
    from babel.messages.pofile import read_po

    from webui.app import TRANSLATIONS
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    with (TRANSLATIONS / "messages.pot").open("rb") as pot:
        template = read_po(pot)
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    assert untranslated == []
    assert {m.id for m in template if m.id} <= {m.id for m in catalogue if m.id}


def test_a_teacher_cannot_open_what_the_national_layer_blocks(tmp_path, lycee_site, clock) -> None:
    from tests.unit.console.conftest import make
    from webui.app import create_app
    from webui.context import Console

    national = lycee_site.filtering.national.model_copy(
        update={"blocked_domains": ("interdit.example",)})
    site = lycee_site.model_copy(update={"filtering": lycee_site.filtering.model_copy(
        update={"national": national})})
    console = Console(site, tmp_path / "s.sqlite", tmp_path / "j", now=clock)
    make(console.conn_for_tests(), "m.dupont", "enseignant")
    browser = Browser(create_app(console, secret_key="s" * 64), clock)
    browser.login("m.dupont")
    response = open_form(browser, domain="www.interdit.example")
    assert response.status_code == 400 and "bloqué au niveau national" in text(response)
    assert store.running_openings(console.conn_for_tests(), clock()) == []


@pytest.mark.parametrize("name", ["enseignant", "referent", "chef", "technicien"])
def test_each_role_has_its_guide_in_french_and_english(browser, name) -> None:
    french = browser.get(f"/aide/{name}?lang=fr")
    english = browser.get(f"/aide/{name}?lang=en")
    assert french.status_code == english.status_code == 200
    assert "Guide" in text(french) and "<h2>" in text(french)
    assert "capture d’écran" in text(french) or name == "technicien"
    assert "screenshot" in text(english) or name == "technicien"
    assert "<script" not in text(french)
    assert browser.get("/aide/inconnu").status_code == 404


def test_status_page_draws_30_days_of_availability_and_lists_what_it_knows(
        app, clock, console) -> None:
    from monitoring import history
    (console.run / "monitoring").mkdir(parents=True)
    path = console.run / "monitoring" / history.FILE
    for hours in range(0, 72, 6):
        when = clock() - timedelta(hours=hours)
        history.tally(path, [("educonnect", hours != 12), ("ent", True)], when, "Europe/Paris")
    (console.run / "units").mkdir()
    (console.run / "units" / "portal.pid").write_text("999999999\n")
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = text(browser.get("/referent"))
    assert page.count("<svg") == 2 and "<rect" in page
    assert "educonnect : 91.7% des vérifications réussies" in page
    assert "ent : 100.0% des vérifications réussies" in page
    assert "portal : arrêté" in page
    series = history.series(history.load(path), "ent", clock().date())
    assert len(series) == 30 and series[0][2] == 0 and series[-1][1] == series[-1][2] > 0


def test_site_page_checks_a_pending_change_through_validate_render_and_diff(
        app, clock, console) -> None:
    from tests.conftest import EXAMPLES
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/site").get_data(as_text=True)
    assert "Aucune génération n'a encore été appliquée" in html.unescape(page)
    bad = browser.post("/referent/site/verifier", {"text": "school: [pas fini"}, page=page)
    assert bad.status_code == 400 and "n'est pas valide" in text(bad)
    wrong = browser.post("/referent/site/verifier", {"text": "school:\n  uai: X\n"}, page=page)
    assert wrong.status_code == 400 and "<li>" in text(wrong)
    good = browser.post("/referent/site/verifier",
                        {"text": (EXAMPLES / "site.yaml").read_text(encoding="utf-8")},
                        page=page)
    assert good.status_code == 200 and "valide" in text(good)
    assert "etc/nftables.conf" in text(good)


def wait_for(console, kind: str):
    """The job's state once it has ended (the stand-in ends at once; bounded anyway)."""
    import time
    for _ in range(200):
        state = console.jobs.read(kind)
        if not state.running:
            return state
        time.sleep(0.05)
    raise AssertionError(f"the {kind} job did not end")


def test_site_page_applies_what_was_checked_with_carine_apply(app, clock, console) -> None:
    from tests.conftest import EXAMPLES
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/site").get_data(as_text=True)
    example = (EXAMPLES / "site.yaml").read_text(encoding="utf-8")
    good = browser.post("/referent/site/verifier", {"text": example}, page=page)
    shown = good.get_data(as_text=True)
    assert "/referent/site/appliquer" in shown
    stale = browser.post("/referent/site/appliquer", {"digest": "0" * 64}, page=shown)
    assert stale.status_code == 409 and "vérifiez-le de nouveau" in text(stale)
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]{64})"', shown)
    assert digest, shown
    started = browser.post("/referent/site/appliquer", {"digest": digest.group(1)}, page=shown)
    assert started.status_code == 303
    job = wait_for(console, "apply")
    pending = console.store.parent / "console" / "site-pending.yaml"
    assert job.state == "ok" and job.actor == "r.referent"
    assert job.tail.splitlines()[0] == (f"carine apply {pending} --store "
                                        f"{console.store.parent / 'generations'}")
    assert pending.read_text(encoding="utf-8") == example
    after = text(browser.get("/referent/site"))
    assert "Terminé avec succès" in after and "TASK [apply] ok" in after
    entries = [r for r in admin_records(console) if r["action"] == "site.apply"]
    assert len(entries) == 1


def test_a_failed_run_is_shown_failed_and_one_runs_at_a_time(console, clock, monkeypatch
                                                              ) -> None:
    from webui.jobs import Busy
    monkeypatch.setenv("CARINE_STAND_IN_RC", "3")
    console.jobs.start("lists", ["filter", "update", "--rollback"], "r.referent", clock())
    job = wait_for(console, "lists")
    assert job.state == "failed" and job.returncode == 3
    slow = console.jobs
    slow.carine = (sys.executable, "-c", "import time; time.sleep(30)")
    slow.start("lists", [], "r.referent", clock())
    try:
        with pytest.raises(Busy):
            slow.start("lists", [], "r.referent", clock())
    finally:
        pid = int((slow.folder("lists") / "pid").read_text())
        os.kill(pid, signal.SIGTERM)


def test_lists_page_shows_generations_and_runs_the_timers_update_and_the_rollback(
        app, clock, console, tmp_path) -> None:
    from filtering.update import Options, update
    from tests.unit.filtering.listgen import ut1_archive
    index = console.filter_config.index
    for n, salt in enumerate("ab"):
        update(Options(str(ut1_archive(tmp_path / f"src{n}", {"games": 40 + n}, salt)), index))
    etc = tmp_path / "etc"
    (etc / "carine").mkdir(parents=True)
    console.site_file = etc / "carine" / "site.yaml"
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/listes")
    shown = text(page)
    assert page.status_code == 200 and shown.count("<tr><td>") == 2 and "oui" in shown
    refused = browser.post("/referent/listes/mettre-a-jour", {}, page=shown)
    assert refused.status_code == 409 and "n'est pas installée" in text(refused)
    (etc / "systemd" / "system").mkdir(parents=True)
    (etc / "systemd" / "system" / "carine-lists-update.service").write_text(
        "[Service]\nType=oneshot\nExecStart=/usr/bin/carine filter update --source "
        "https://lists.example/blacklists.tar.gz --wait 600\n")
    assert browser.post("/referent/listes/mettre-a-jour", {}, page=shown).status_code == 303
    job = wait_for(console, "lists")
    assert job.tail.splitlines()[0] == ("carine filter update --source "
                                        "https://lists.example/blacklists.tar.gz --wait 600")
    assert browser.post("/referent/listes/revenir", {}, page=shown).status_code == 303
    job = wait_for(console, "lists")
    assert job.tail.splitlines()[0] == f"carine filter update --rollback --index {index}"
    assert "Terminé avec succès" in text(browser.get("/referent/listes"))
    actions = [r["action"] for r in admin_records(console)]
    assert actions.count("lists.update") == 1 and actions.count("lists.rollback") == 1


def test_users_import_shows_the_dry_run_then_applies_with_carine_users_import(
        app, clock, console) -> None:
    import io

    from appliance.directory.schema import open_directory
    from tests.unit.imports.conftest import CSV
    console.jobs.carine = (sys.executable, "-m", "appliance.cli")  # the real CLI: a tmp state
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/utilisateurs/import").get_data(as_text=True)
    data = (CSV / "ecole-cp1252.csv").read_bytes()
    conn = open_directory(console.store)
    before = conn.execute("SELECT count(*) FROM accounts").fetchone()[0]
    dry = browser.post("/referent/utilisateurs/import/analyser",
                       {"file": (io.BytesIO(data), "eleves.csv"), "mode": "auto"}, page=page)
    shown = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "4 création(s)" in html.unescape(shown)
    assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == before
    digest = re.search(r'name="digest" type="hidden" value="([0-9a-f]{64})"', shown)
    assert digest
    started = browser.post("/referent/utilisateurs/import/appliquer",
                           {"digest": digest.group(1), "mode": "auto"}, page=shown)
    assert started.status_code == 303
    job = wait_for(console, "import")
    assert job.state == "ok", job.tail
    assert "progress 4/8" in job.tail and "progress 8/8" in job.tail
    assert conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == before + 4
    after = text(browser.get("/referent/utilisateurs/import"))
    assert 'max="8" value="8"' in after and "Terminé avec succès" in after
    slips = browser.get("/referent/utilisateurs/fiches").get_data(as_text=True)
    assert "CM1" in slips
    sheet = browser.post("/referent/utilisateurs/fiches/CM1", {}, page=slips)
    assert sheet.status_code == 200 and sheet.headers["Cache-Control"] == "no-store"
    assert "attachment" in sheet.headers["Content-Disposition"]
    assert "classe CM1" in html.unescape(sheet.get_data(as_text=True))
    again = browser.post("/referent/utilisateurs/fiches/CM1", {}, page=slips)
    assert again.status_code == 404  # printed slips leave the pending file
    hostile = browser.post("/referent/utilisateurs/import/analyser", {
        "file": (io.BytesIO(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">'
                            b'<!ENTITY b "&a;&a;&a;&a;">]><x>&b;</x>'), "bombe.xml"),
        "mode": "auto"}, page=page)
    assert hostile.status_code == 400 and "est refusé" in text(hostile)
    wrong = browser.post("/referent/utilisateurs/import/analyser", {
        "file": (io.BytesIO(b"MZ"), "virus.exe"), "mode": "auto"}, page=page)
    assert wrong.status_code == 400 and "export AAF (.xml) ou un CSV" in text(wrong)
    conn.close()


def test_wifi_page_lists_each_access_point_its_schedule_and_switches_a_room(
        app, clock, console) -> None:
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/wifi")
    shown = text(page)
    assert page.status_code == 200
    assert "ap-cdi" in shown and "ap-b104" in shown and "B104 (salle de classe)" in shown
    assert "lun. 07:30–18:30" in shown and "mer. 07:30–12:30" in shown and "dim. —" in shown
    assert shown.count("07/12/2026 18:30") == 2  # Monday 10:00 in Paris: on until 18:30
    assert "éteinte après 30 min sans client" in shown
    bad = browser.post("/referent/wifi", {"r-room": "Cave", "r-state": "off"}, page=shown)
    assert bad.status_code == 400 and "n'a pas été changé" in text(bad)
    done = browser.post("/referent/wifi", {"r-room": "B104", "r-state": "off"}, page=shown)
    assert done.status_code == 200 and "Wi-Fi de la salle B104 : éteint." in text(done)
    assert "r.referent" in text(browser.get("/referent/wifi"))
    assert [r["action"] for r in admin_records(console)].count("wifi.radio") == 1


def test_the_head_approves_or_refuses_the_referents_voucher_batches(app, clock, console) -> None:
    from network.portal import vouchers
    referent = Browser(app, clock)
    referent.login("r.referent")
    page = referent.get("/referent/tickets").get_data(as_text=True)
    made = referent.post("/referent/tickets", {"count": "3", "minutes": "90",
                                               "profile": "invite"}, page=page)
    assert made.status_code == 200 and "validé par le chef" in text(made)
    conn = console.conn_for_tests()
    codes = re.findall(r"<code>([A-Z0-9-]+)</code>", made.get_data(as_text=True))
    assert len(codes) == 3
    assert vouchers.redeem(conn, b"k" * 32, codes[0], "10.30.0.9", None,
                           clock().timestamp()) == "pending"
    assert referent.get("/chef/tickets").status_code == 403
    chef = Browser(app, clock)
    chef.login("c.chef")
    shown = chef.get("/chef/tickets").get_data(as_text=True)
    (batch,) = [r["batch"] for r in vouchers.pending(conn)]
    assert batch in shown and "r.referent" in shown
    done = chef.post(f"/chef/tickets/{batch}/valider", {}, page=shown)
    assert done.status_code == 200 and "validé : ses tickets fonctionnent" in text(done)
    assert chef.post(f"/chef/tickets/{batch}/refuser", {}, page=shown).status_code == 404
    used = vouchers.redeem(conn, b"k" * 32, codes[0], "10.30.0.9", None, clock().timestamp())
    assert not isinstance(used, str) and used.valid_minutes == 90
    assert "vouchers.approve" in [r["action"] for r in admin_records(console)]


def test_devices_are_registered_listed_for_printing_and_removed(app, clock, console) -> None:
    from network.portal import devices
    browser = Browser(app, clock)
    browser.login("r.referent")
    page = browser.get("/referent/appareils").get_data(as_text=True)
    form = {"d-mac": "52-54-00-AB-CD-EF", "d-name": "Imprimante CDI", "d-kind": "printer",
            "d-owner": "r.referent", "d-profile": "enseignant", "d-zone": ""}
    bad = browser.post("/referent/appareils", {**form, "d-mac": "pas une MAC"}, page=page)
    assert bad.status_code == 400 and "n'est pas une adresse MAC" in text(bad)
    assert devices.active(console.conn_for_tests()) == {}
    good = browser.post("/referent/appareils", form, page=page)
    assert good.status_code == 200 and "52:54:00:ab:cd:ef" in text(good)
    shown = text(browser.get("/referent/appareils"))
    assert "Imprimante CDI" in shown and "imprimante" in shown
    (device,) = devices.active(console.conn_for_tests()).values()
    gone = browser.post(f"/referent/appareils/{device.id}/retirer", {}, page=page)
    assert gone.status_code == 200 and devices.active(console.conn_for_tests()) == {}
    assert browser.post(f"/referent/appareils/{device.id}/retirer", {},
                        page=page).status_code == 404
