"""The block page and the "recently blocked" page: French explanations per reason, hostile input,
CSRF, unblock requests in the store, headers, accessibility basics, and the real server."""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import stat
import sys
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from appliance import wsgi
from appliance.clock import FixedClock
from appliance.errors import CarineError
from appliance.render.layout import Layout
from appliance.run import spawn
from appliance.site import load_site
from appliance.state import connect
from filtering import store
from filtering.blockform import parse_message
from filtering.blockpage import HEADERS, create_app
from filtering.config import FilterConfig, render_config

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 5, tzinfo=PARIS)
PUPIL = "10.30.0.57"
OTHER = "10.30.0.58"
CATEGORY_TEXT = ("Ce site est classé dans la catégorie « jeux » (listes de l'Université "
                 "Toulouse 1 Capitole), bloquée pour le profil élève.")
NO_SCHOOL_UNBLOCK = "L'établissement ne peut pas débloquer ce site"
GENERIC = "Ce site est bloqué par le filtrage de l'établissement."
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "filtering.json"
    site = load_site(REPO / "examples" / "site.yaml")
    path.write_text(render_config(site, Layout.in_tree(tmp_path)), encoding="utf-8")
    return path


@pytest.fixture
def config(config_path: Path) -> FilterConfig:
    return FilterConfig.load(config_path)


@pytest.fixture
def client(config: FilterConfig) -> FlaskClient:
    return create_app(config, clock=lambda: NOW).test_client()


def read(markup: str) -> str:
    """Page text as a person reads it: entities decoded, non-breaking spaces as spaces."""
    return html.unescape(markup).replace("\xa0", " ")


def page(client: FlaskClient, url: str, remote: str = PUPIL) -> str:
    response = client.get(url, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def bloque(client: FlaskClient, m: str | None, u: str | None = "http://jeux.example/") -> str:
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in (("m", m), ("u", u)) if v is not None)
    return page(client, f"/bloque?{query}")


def requests_in(config: FilterConfig) -> list[dict[str, object]]:
    conn = connect(config.store)
    try:
        return [dict(row) for row in store.unblock_requests(conn)]
    finally:
        conn.close()


@pytest.mark.parametrize(("m", "says", "form"), [
    ("category/games/eleve", CATEGORY_TEXT, True),
    ("national-category/adult/eleve", "bloquée au niveau national pour le profil élève", False),
    ("national-domain/-/eleve", "bloqué pour tous les utilisateurs par l'académie", False),
    ("school-block/-/eleve", "L'établissement a choisi de bloquer ce site.", True),
    ("time-block/-/eleve", "L'accès est fermé à cette heure pour le profil élève", True),
    ("not-allowed/-/eleve", "seuls les sites autorisés par l'établissement sont accessibles",
     True),
    ("filter-unavailable", "Le filtrage est momentanément indisponible : par sécurité", False),
    ("category/-/eleve", "Ce site fait partie d'une catégorie bloquée pour le profil élève.",
     True),
])  # fmt: skip
def test_each_reason_is_explained_in_french(client: FlaskClient, m: str, says: str,
                                            form: bool) -> None:
    text = read(bloque(client, m))
    assert says in text
    assert "jeux.example" in text
    assert "lundi 23 novembre 2026 à 10 h 05" in text
    assert PUPIL in text
    assert ("Demander le déblocage au référent numérique" in text) is form
    assert ('name="csrf_token"' in text) is form
    if m.startswith("national"):
        assert NO_SCHOOL_UNBLOCK in text


@pytest.mark.parametrize(("m", "u"), [
    (None, None), ("", ""), ("n'importe/quoi", "pas une adresse"), ("category/games/eleve/x", None),
    ("default/-/eleve", "http://jeux.example/"), ("%ff%00", "http://[::1"),
    ("category/../../etc", "javascript:alert(1)"), ("\x00\x1f/\u202e/é", "ftp://jeux.example/"),
    ("category/" + "a" * 5000 + "/eleve", "http://jeux.example/" + "a" * 10_000),
    ("category/games/<b>", "http://éxample.fr:99999/"),
])  # fmt: skip
def test_garbage_never_crashes(client: FlaskClient, m: str | None, u: str | None) -> None:
    text = read(bloque(client, m, u))
    assert "<h1>Ce site est bloqué</h1>" in text


def test_unknown_reason_gives_the_generic_page(client: FlaskClient) -> None:
    assert GENERIC in read(bloque(client, "default/games/eleve"))
    text = read(bloque(client, None, None))
    assert GENERIC in text and "sites récemment bloqués" in text and "<form" not in text


def test_host_and_url_are_escaped(client: FlaskClient) -> None:
    assert "<script" not in bloque(client, "category/games/eleve", "http://<script>x/")
    text = bloque(client, "category/games/eleve", 'http://jeux.example/"><script>alert(1)</script>')
    assert "<script" not in text
    assert "&#34;&gt;&lt;script&gt;" in text  # the URL is kept, inert, in the form


def test_stored_hosts_are_escaped(client: FlaskClient, config: FilterConfig) -> None:
    conn = connect(config.store)
    store.record_block(conn, PUPIL, "<script>x</script>.example", "<b>", "category", "<i>", NOW)
    conn.close()
    text = page(client, "/bloques")
    assert "<script" not in text and "<b>" not in text and "<i>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;.<wbr>example" in text


def post(client: FlaskClient, remote: str = PUPIL, **fields: str) -> tuple[int, str]:
    form = {"host": "jeux.example", "url": "http://jeux.example/page", "category": "games",
            "reason": "category", "comment": "exposé d'histoire", **fields}
    response = client.post("/demande", data=form, environ_base={"REMOTE_ADDR": remote})
    return response.status_code, read(response.get_data(as_text=True))


def token(client: FlaskClient, m: str = "category/games/eleve") -> str:
    found = TOKEN.search(bloque(client, m, "http://jeux.example/page"))
    assert found
    return found.group(1)


def test_post_without_csrf_token_is_refused(client: FlaskClient, config: FilterConfig) -> None:
    status, text = post(client)
    assert status == 400
    assert "Le formulaire n'a pas pu être vérifié" in text
    status, _ = post(client, csrf_token="forged")
    assert status == 400
    assert requests_in(config) == []


def test_post_with_token_records_the_request(client: FlaskClient, config: FilterConfig) -> None:
    status, text = post(client, csrf_token=token(client), comment="exposé\r\nd'histoire ")
    assert status == 200
    assert "<h1>Demande envoyée</h1>" in text
    [row] = requests_in(config)
    assert f"numéro {row['id']}" in text
    assert row["client"] == PUPIL and row["host"] == "jeux.example"
    assert row["url"] == "http://jeux.example/page"
    assert (row["category"], row["reason"]) == ("games", "category")
    assert row["comment"] == "exposé\nd'histoire"
    assert row["created"] == "2026-11-23T09:05:00+00:00"  # stored UTC; the school saw 10 h 05


@pytest.mark.parametrize(("fields", "says"), [
    ({"host": "<script>"}, "L'adresse du site n'est pas valide."),
    ({"host": ""}, "L'adresse du site n'est pas valide."),
    ({"url": "http://jeux.example/" + "a" * 2000}, "trop longue (2000 caractères au plus)"),
    ({"url": "http://autre.example/"}, "ne correspond pas au site"),
    ({"category": "<b>"}, "La catégorie indiquée n'est pas valide."),
    ({"reason": "national-category"}, NO_SCHOOL_UNBLOCK),
    ({"reason": "filter-unavailable"}, "ne peut pas faire l'objet d'une demande"),
    ({"comment": "x" * 501}, "Le commentaire dépasse 500 caractères"),
])  # fmt: skip
def test_bad_requests_are_refused_and_not_recorded(client: FlaskClient, config: FilterConfig,
                                                   fields: dict[str, str], says: str) -> None:
    status, text = post(client, csrf_token=token(client), **fields)
    assert status == 400
    assert says in text
    assert requests_in(config) == []


def test_the_filters_record_beats_the_form(client: FlaskClient, config: FilterConfig) -> None:
    conn = connect(config.store)
    store.record_block(conn, PUPIL, "jeux.example", "adult", "national-category", "eleve", NOW)
    conn.close()
    status, text = post(client, csrf_token=token(client), reason="category")
    assert status == 400 and NO_SCHOOL_UNBLOCK in text
    assert requests_in(config) == []


def test_recently_blocked_lists_this_client_only(client: FlaskClient,
                                                 config: FilterConfig) -> None:
    conn = connect(config.store)
    store.record_block(conn, PUPIL, "jeux.example", "games", "category", "eleve", NOW)
    store.record_block(conn, PUPIL, "vpn.example", "vpn", "national-category", "eleve", NOW)
    store.record_block(conn, OTHER, "secret.example", "chat", "category", "eleve", NOW)
    conn.close()
    text = read(page(client, "/bloques"))
    assert "<caption>" in text and '<th scope="col">Site</th>' in text
    assert '<th scope="row">jeux.<wbr>example</th>' in text and "jeux" in text
    assert '<th scope="row">vpn.<wbr>example</th>' in text and "Bloqué au niveau national" in text
    assert "secret.example" not in text
    # One request form (with its token) for the school's block; none for the national one.
    assert text.count('name="csrf_token"') == 1
    assert 'name="host" value="jeux.example"' in text
    other = read(page(client, "/bloques", remote="10.30.0.99"))
    assert "Aucun site n'a été bloqué pour cet appareil depuis une heure." in other
    assert "<table" not in other


def test_a_request_from_the_recent_list(client: FlaskClient, config: FilterConfig) -> None:
    conn = connect(config.store)
    store.record_block(conn, PUPIL, "jeux.example", "games", "category", "eleve", NOW)
    conn.close()
    found = TOKEN.search(page(client, "/bloques"))
    assert found
    # A row's form carries the host only: category and reason come from the filter's record.
    status, _ = post(client, csrf_token=found.group(1), url="", category="", reason="")
    assert status == 200
    [row] = requests_in(config)
    assert (row["host"], row["category"], row["reason"]) == ("jeux.example", "games", "category")


def test_the_pupil_reads_the_referents_answers(client: FlaskClient, config: FilterConfig) -> None:
    """What the referent decided in the console (filtering.operations) shows on /bloques."""
    from datetime import timedelta

    from filtering import operations

    conn = connect(config.store)
    granted = store.request_unblock(conn, PUPIL, "jeux.example", "", "games", "category", "",
                                    NOW)
    refused = store.request_unblock(conn, PUPIL, "video.example", "", "audio-video",
                                    "category", "", NOW)
    store.request_unblock(conn, PUPIL, "attente.example", "", "games", "category", "", NOW)
    store.request_unblock(conn, OTHER, "autre.example", "", "games", "category", "", NOW)
    operations.grant(conn, config, granted, "r.referent", NOW, NOW + timedelta(hours=1))
    operations.refuse(conn, refused, "r.referent", NOW, "Hors du cadre pédagogique.")
    conn.close()
    text = read(page(client, "/bloques"))
    assert "Vos demandes de déblocage" in text
    assert "jeux.<wbr>example</strong> : accordée jusqu'à" in text
    assert "video.<wbr>example</strong> : refusée (« Hors du cadre pédagogique. »)" in text
    assert "attente.<wbr>example</strong> : en attente" in text
    assert "autre.example" not in text


def test_the_recent_list_stays_light(client: FlaskClient, config: FilterConfig) -> None:
    conn = connect(config.store)
    for n in range(40):
        store.record_block(conn, PUPIL, f"site-{n}.jeux-en-ligne.example", "games", "category",
                           "eleve", NOW)
    conn.close()
    response = client.get("/bloques", environ_base={"REMOTE_ADDR": PUPIL})
    text = read(response.get_data(as_text=True))
    assert text.count('<th scope="row">') == 15
    assert "Seuls les 15 blocages les plus récents sont affichés (25 autres" in text
    css = client.get("/static/blockpage.css").get_data()
    assert len(response.get_data()) + len(css) < 15_000


def test_without_the_store_the_page_still_explains(config: FilterConfig,
                                                   tmp_path: Path) -> None:
    client = create_app(replace(config, store=tmp_path), clock=lambda: NOW).test_client()
    text = read(bloque(client, "category/games/eleve"))
    assert CATEGORY_TEXT in text
    assert "demandes de déblocage sont momentanément indisponibles" in text
    assert "<form" not in text
    assert "momentanément indisponible" in read(page(client, "/bloques"))
    found = TOKEN.search(page(client, "/bloques"))
    assert found is None


@pytest.mark.parametrize("url", ["/", "/sante", "/bloque", "/bloques", "/nulle-part",
                                 "/static/blockpage.css"])
def test_security_headers_on_every_response(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    for name, value in HEADERS.items():
        assert response.headers[name] == value


def test_routes(client: FlaskClient) -> None:
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/bloques")
    health = client.get("/sante")
    assert health.get_data(as_text=True).strip() == "ok" and health.mimetype == "text/plain"
    assert client.get("/nulle-part").status_code == 404
    assert "Page introuvable" in client.get("/nulle-part").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/bloque?m=category%2Fgames%2Feleve&u=http%3A%2F%2Fa.example%2F",
                                 "/bloques", "/nulle-part"])
def test_pages_are_french_light_and_script_free(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    text = response.get_data(as_text=True)
    assert '<html lang="fr">' in text
    assert text.count("<h1") == 1
    assert all(f"<{tag}" in text for tag in ("header", "main", "footer"))
    assert "<script" not in text.lower()
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", text)  # no inline event handlers either
    assert "http://" not in text.replace("http://a.example/", "")  # nothing external
    for field in re.findall(r'<textarea id="([^"]+)"', text):
        assert f'<label for="{field}">' in text
    css = client.get("/static/blockpage.css").get_data()
    assert len(response.get_data()) + len(css) < 15_000


def test_message_parsing() -> None:
    assert parse_message("category/games/eleve").category == "games"
    assert parse_message("filter-unavailable").reason == "filter-unavailable"
    assert parse_message("national-domain/-/eleve").category == ""
    assert parse_message("allowed/games/eleve").reason == ""
    assert parse_message("category/GAMES/élève") == parse_message("category")


def test_secret_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    key = wsgi.secret_key(path)
    assert len(key) >= 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert wsgi.secret_key(path) == key
    path.chmod(0o644)
    with pytest.raises(CarineError, match="readable by others"):
        wsgi.secret_key(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_exit(pid: int, deadline: float) -> int | None:
    """The exit status of our child ``pid``, or None if it still runs at ``deadline``."""
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None


def test_the_server_serves_for_real_and_stops_on_sigterm(config_path: Path,
                                                         tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pid = spawn([sys.executable, "-m", "filtering.blockpage", "--config", str(config_path),
                 "--port", str(port), "--bind", "127.0.0.1",
                 "--secret-file", str(tmp_path / "secret")], logfile=tmp_path / "blockpage.log")
    try:
        deadline = time.monotonic() + 30
        while True:  # readiness: /sante answers
            try:
                with urllib.request.urlopen(f"{base}/sante", timeout=2) as response:
                    assert response.read() == b"ok\n"
                    break
            except OSError:
                assert wait_exit(pid, time.monotonic()) is None, \
                    (tmp_path / "blockpage.log").read_text()
                assert time.monotonic() < deadline, "the block page never answered"
                time.sleep(0.05)
        with urllib.request.urlopen(f"{base}/bloque?m=category%2Fgames%2Feleve"
                                    "&u=http%3A%2F%2Fjeux.example%2F", timeout=5) as response:
            text = read(response.read().decode())
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert CATEGORY_TEXT in text and "127.0.0.1" in text
        assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
    finally:
        os.kill(pid, signal.SIGTERM)
        code = wait_exit(pid, time.monotonic() + 15)
        if code is None:  # never leave it behind, even when the test fails
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    assert code == 0, (tmp_path / "blockpage.log").read_text()


def test_times_are_the_schools_whatever_the_clocks_zone(config: FilterConfig) -> None:
    """The clock gives UTC (as the system's does); pages show the school's time, 10 h 05 in
    Paris for 09:05 UTC (they showed 9 h 05, UTC labelled as local), and the refusal is
    stored in UTC."""
    utc_now = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)
    client = create_app(config, clock=lambda: utc_now).test_client()
    assert "lundi 23 novembre 2026 à 10 h 05" in read(bloque(client, "category/games/eleve"))
    conn = connect(config.store)
    store.prepare(conn)
    store.record_block(conn, PUPIL, "jeux.example", "games", "category", "eleve", utc_now)
    [stored] = conn.execute("SELECT at FROM filter_recent_blocks").fetchall()
    conn.close()
    assert stored[0] == "2026-11-23T09:05:00+00:00"
    text = read(page(client, "/bloques"))
    assert "10 h 05" in text and "9 h 05" not in text
    assert 'datetime="2026-11-23T09:05:00+00:00"' in text  # machine-readable, with its zone


def test_on_the_night_the_clocks_go_back_the_offset_is_shown(config: FilterConfig) -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, then 02:30 CET again
    for at, offset in ((first, "UTC+02:00"), (first + timedelta(hours=1), "UTC+01:00")):
        client = create_app(config, clock=FixedClock(at).now).test_client()
        assert f"dimanche 25 octobre 2026 à 2 h 30 ({offset})" in read(
            bloque(client, "category/games/eleve"))


def test_naive_times_are_not_stored(config: FilterConfig) -> None:
    conn = connect(config.store)
    store.prepare(conn)
    with pytest.raises(ValueError, match="naive"):
        store.record_block(conn, PUPIL, "jeux.example", "games", "category", "eleve",
                           datetime(2026, 11, 23, 10, 5))
    conn.close()
