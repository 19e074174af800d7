"""Filtering for minors, for real: the Squid helper on the real UT1 lists, the block page, the
recently blocked page, SafeSearch and refused DoH by DNS, teacher openings (D-FIL-1..6)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest

from appliance.lab import netns
from appliance.lab.driver import LabDriver
from appliance.lab.topology import SAFESEARCH
from appliance.state import connect
from filtering import store

pytestmark = pytest.mark.lab

PUPIL, STAFF = "pedago-1", "staff-1"
GAMES = "poki.com"  # in UT1's games list: blocked for pupils, open to staff
BLOCK_PAGE = "http://carine.perrin.lan:8088"


def dig(lab: LabDriver, node: str, name: str, *server: str) -> str:
    return lab.exec(node, ["dig", "+time=2", "+tries=1", *server, name]).stdout


def test_pupil_is_sent_to_the_block_page_for_a_games_site(lab: LabDriver) -> None:
    result = lab.exec(PUPIL, ["curl", "-sS", "-m", "5", "-o", "/dev/null", "-w",
                              "%{http_code} %{redirect_url}", f"http://www.{GAMES}/jouer"])
    code, location = result.stdout.split(" ", 1)
    assert code == "302", result.output()
    assert location.startswith(f"{BLOCK_PAGE}/bloque?")
    assert "m=category%2Fgames%2Feleve" in location
    # The page itself, reached by the name every zone resolves to its own gateway.
    page = lab.curl(PUPIL, location)
    assert page.ok, page.output()
    assert "Ce site est bloqué" in page.stdout and re.search(r"«\s*jeux\s*»", page.stdout)
    assert f"www.{GAMES}" in page.stdout
    # Squid's log says who, what, and why.
    assert re.search(rf" {lab.address(PUPIL)} .* GET http://www.{GAMES}/jouer .* games block "
                     "eleve category$", lab.proxy_log(), re.MULTILINE)


def test_pupil_https_to_a_games_site_is_refused_and_listed(lab: LabDriver) -> None:
    result = lab.curl(PUPIL, f"https://{GAMES}/")
    assert not result.ok
    assert "SSL_ERROR_SYSCALL" in result.stderr or "reset" in result.stderr  # refused at once
    # Refusals reach the store within a second (the helpers write them in batches).
    def listed() -> bool:
        page = lab.curl(PUPIL, f"{BLOCK_PAGE}/bloques")
        return page.ok and GAMES in page.stdout.replace("<wbr>", "")

    netns.wait_for("the refusal on the recently blocked page", listed, timeout=10)
    assert "jeux" in lab.curl(PUPIL, f"{BLOCK_PAGE}/bloques").stdout
    # The staff PC has its own list: nothing of the pupil's shows there.
    assert GAMES not in lab.curl(STAFF, f"{BLOCK_PAGE}/bloques").stdout.replace("<wbr>", "")


def test_pupil_reaches_the_ent_and_staff_reach_the_games_site(lab: LabDriver) -> None:
    ent = lab.curl(PUPIL, "https://ent.auvergnerhonealpes.fr/cahier-de-textes")
    assert ent.ok and "host=ent.auvergnerhonealpes.fr" in ent.stdout
    assert lab.curl(PUPIL, "http://www.education.gouv.fr/").ok
    staff = lab.curl(STAFF, f"https://{GAMES}/")
    assert staff.ok and f"host={GAMES}" in staff.stdout


def test_safesearch_is_forced_by_dns(lab: LabDriver) -> None:
    answer = dig(lab, PUPIL, "www.google.com")
    assert "CNAME\tforcesafesearch.google.com." in answer
    assert str(SAFESEARCH["forcesafesearch.google.com"]) in answer
    # Strict YouTube for pupils, moderate for staff (the staff view).
    assert "restrict.youtube.com." in dig(lab, PUPIL, "www.youtube.com")
    assert "restrictmoderate.youtube.com." in dig(lab, STAFF, "www.youtube.com")
    # Asking another resolver changes nothing: DNS from the zone is taken over.
    assert "forcesafesearch.google.com." in dig(lab, PUPIL, "www.google.fr", "@198.18.1.53")


@pytest.mark.parametrize("name", ["dns.google", "cloudflare-dns.com", "use-application-dns.net"])
def test_pupil_cannot_resolve_a_doh_provider(lab: LabDriver, name: str) -> None:
    assert "status: NXDOMAIN" in dig(lab, PUPIL, name)
    assert "status: NXDOMAIN" in dig(lab, PUPIL, name, "@8.8.8.8")
    assert "status: NOERROR" in dig(lab, STAFF, name)
    assert f"config {name} is NXDOMAIN" in lab.log("dns-block-safe.log")  # counted


def test_a_teacher_opening_works_and_expires(lab: LabDriver) -> None:
    site = "friv.com"  # games: never asked before in this lab, so no cached decision
    assert lab.curl(PUPIL, f"https://{site}/").ok is False
    conn = connect(lab.store_path)
    store.prepare(conn)
    now = datetime.now(UTC)  # the lab's real daemons run on the real clock
    store.add_opening(conn, site, "pedago", now + timedelta(seconds=12), "m.dupont", now)
    opened: list[bool] = []

    def reachable() -> bool:
        opened.append(lab.curl(PUPIL, f"https://{site}/").ok)
        return opened[-1]

    netns.wait_for("the opening", reachable, timeout=20)
    assert "teacher-opening" in lab.proxy_log()
    # Once it ends (and Squid's short decision cache with it), the site is blocked again.
    netns.wait_for("the end of the opening", lambda: not reachable(), timeout=45)
    assert not lab.curl(STAFF.replace("staff", "guest"), f"https://{site}/").ok  # other zone


def test_unblock_request_from_the_block_page_reaches_the_store(lab: LabDriver) -> None:
    jar = "/run/carine-lab/test-cookies"  # the form's CSRF token is tied to its session cookie
    url = f"{BLOCK_PAGE}/bloque?m=category%2Fgames%2Feleve&u=http%3A%2F%2F{GAMES}%2F"
    first = lab.exec(PUPIL, ["curl", "-sS", "-m", "5", "-c", jar, url])
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', first.stdout)
    assert token
    posted = lab.exec(PUPIL, [
        "curl", "-sS", "-m", "5", "-b", jar, "-X", "POST", f"{BLOCK_PAGE}/demande",
        "--data-urlencode", f"csrf_token={unquote(token.group(1))}",
        "--data-urlencode", f"host={GAMES}", "--data-urlencode", f"url=http://{GAMES}/",
        "--data-urlencode", "category=games", "--data-urlencode", "reason=category",
        "--data-urlencode", "comment=exposé sur les jeux sérieux"])
    assert posted.ok, posted.output()
    requests = store.unblock_requests(connect(lab.store_path))
    assert any(r["host"] == GAMES and r["client"] == str(lab.address(PUPIL)) for r in requests)


def test_helper_survives_garbage_and_squid_keeps_filtering(lab: LabDriver) -> None:
    helper = [str(lab.programs / "carine-filter-helper"), "--config", str(lab.filter_config)]
    garbage = lab.exec("appliance", ["sh", "-c", f"printf '1 x\\n\\n2 10.30.0.9 - GET "
                                                 f"{GAMES} / - -\\n' | {' '.join(helper)}"])
    lines = garbage.stdout.splitlines()
    assert lines[0] == "1 BH message=malformed" and lines[1].startswith("2 ERR ")


MIRROR = "http://dsi.ut-capitole.fr/blacklists/download"


def _update(lab: LabDriver, *args: str):
    return lab.exec("appliance", [str(lab.programs / "carine"), "filter", "update",
                                  "--dns-config", str(lab.filter_config), *args], timeout=300)


def test_a_corrupt_update_is_refused_and_the_old_index_keeps_serving(lab: LabDriver) -> None:
    from appliance.lab.topology import LAB_DIR, LIST_PATH

    current = (lab.store_path.parent / "filtering/index.cidx").resolve()
    bad = LAB_DIR / "wan/mirror" / LIST_PATH / "broken.tar.gz"
    good = next((LAB_DIR / "wan/mirror" / LIST_PATH).glob("*.tar.xz"))
    bad.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])  # a cut download
    refused = _update(lab, "--source", f"{MIRROR}/broken.tar.gz")
    assert refused.returncode == 2, refused.output()
    assert (lab.store_path.parent / "filtering/index.cidx").resolve() == current
    # Filtering goes on exactly as before.
    assert not lab.curl(PUPIL, "https://www.miniclip.com/").ok
    assert lab.curl(PUPIL, "https://ent.auvergnerhonealpes.fr/").ok
    # A checksum that does not match is refused the same way.
    wrong = _update(lab, "--source", f"{MIRROR}/{good.name}", "--checksum", "0" * 32)
    assert wrong.returncode == 2 and "checksum" in wrong.output().lower()
    assert (lab.store_path.parent / "filtering/index.cidx").resolve() == current
