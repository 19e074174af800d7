"""The captive portal, for real: the nftables gate of the guest zone, the portal over HTTP with
its CSRF tokens, the charter and the forced password change, per-user filtering policies through
Squid and the helper, logout, idle expiry, a voucher used once, a registered printer, RFC 8908."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest

from appliance.directory import accounts
from appliance.journal import query
from appliance.lab import netns
from appliance.lab.driver import LabDriver
from appliance.lab.topology import LAB_DIR, lab_layout
from appliance.sessions import store as sessions
from appliance.state import connect

pytestmark = pytest.mark.lab

PUPIL, TEACHER, PRINTER = "guest-1", "guest-2", "guest-3"
PORTAL = "http://carine.perrin.lan:8090"
GAMES = "poki.com"  # UT1 games: blocked for pupils, open to teachers


class Browser:
    """curl in a lab node with a cookie jar: the portal's forms need their session cookie."""

    def __init__(self, lab: LabDriver, node: str) -> None:
        self.lab, self.node = lab, node
        self.jar = f"/run/carine-lab/portal-{node}.jar"
        Path(self.jar).unlink(missing_ok=True)

    def get(self, url: str) -> str:
        result = self.lab.exec(self.node, ["curl", "-sS", "-m", "5", "-b", self.jar, "-c",
                                           self.jar, url])
        assert result.ok, result.output()
        return result.stdout

    def post(self, path: str, page: str, fields: dict[str, str]) -> tuple[str, str]:
        """Post ``fields`` with the CSRF token of ``page``; (status, redirect location)."""
        found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert found, page[:400]
        argv = ["curl", "-sS", "-m", "10", "-b", self.jar, "-c", self.jar, "-o", "/dev/null",
                "-w", "%{http_code} %{redirect_url}", "-X", "POST", f"{PORTAL}{path}",
                "--data-urlencode", f"csrf_token={unquote(found.group(1))}"]
        for key, value in fields.items():
            argv += ["--data-urlencode", f"{key}={value}"]
        result = self.lab.exec(self.node, argv, timeout=15)
        assert result.ok, result.output()
        code, _, location = result.stdout.partition(" ")
        return code, location

    def login(self, login: str, password: str, new_password: str | None = None) -> None:
        """The whole first login: credentials, charter, new password; ends on the status."""
        code, where = self.post("/connexion", self.get(f"{PORTAL}/connexion"),
                                {"login": login, "password": password})
        assert code == "303", (code, where)
        if where.endswith("/charte"):
            page = self.get(f"{PORTAL}/charte")
            assert "circulaire" in page
            code, where = self.post("/charte", page, {"accept": "y"})
        if where.endswith("/mot-de-passe"):
            assert new_password
            code, where = self.post("/mot-de-passe", self.get(f"{PORTAL}/mot-de-passe"),
                                    {"new": new_password, "confirm": new_password})
        assert where.endswith("/statut"), (code, where)

    def logout(self) -> None:
        page = self.get(f"{PORTAL}/statut")
        if "Se déconnecter" in page:
            self.post("/deconnexion", page, {})


def web(lab: LabDriver, node: str, url: str) -> tuple[str, str]:
    """(status or curl error, redirect location) of a plain request from ``node``."""
    result = lab.exec(node, ["curl", "-sS", "-m", "5", "--cacert", lab.ca, "-o", "/dev/null",
                             "-w", "%{http_code} %{redirect_url}", url])
    if not result.ok:
        return "error", result.stderr.strip()
    code, _, location = result.stdout.partition(" ")
    return code, location


def first_day(lab: LabDriver, known: dict[str, dict[str, str]]) -> None:
    """Initial passwords (NT hashes follow the store's setting), no charter accepted."""
    conn = connect(lab.store_path)
    for login, info in known.items():
        found = accounts.find(conn, login)
        assert found is not None
        accounts.set_password(conn, found.id, info["password"], time.time(), must_change=True)
        conn.execute("UPDATE accounts SET charter_version = NULL WHERE id = ?", (found.id,))
        conn.commit()
    conn.close()


@pytest.fixture
def people(lab: LabDriver) -> Iterator[dict[str, dict[str, str]]]:
    """The lab's pupil and teacher, as on their first day: initial password, no charter, and
    no session left on the guest zone's clients; put back so after the test (the 802.1X
    client of the lab logs in with the pupil's initial password)."""
    known: dict[str, dict[str, str]] = json.loads((LAB_DIR / "accounts.json").read_text())
    first_day(lab, known)
    for node in (PUPIL, TEACHER):
        Browser(lab, node).logout()
    yield known
    first_day(lab, known)


def session_of(lab: LabDriver, node: str) -> sessions.Session | None:
    conn = connect(lab.store_path)
    try:
        return sessions.by_ip(conn, str(lab.address(node)))
    finally:
        conn.close()


def test_before_login_web_goes_to_the_portal_and_https_is_reset(lab, people) -> None:
    code, location = web(lab, PUPIL, "http://www.example.org/devoirs")
    assert (code, location) == ("302", f"{PORTAL}/connexion")
    code, why = web(lab, PUPIL, "https://www.example.org/")
    assert code == "error" and "Couldn't connect" in why  # a reset, at once
    api = lab.exec(PUPIL, ["curl", "-sS", "-m", "5", "-i", f"{PORTAL}/api/captive"]).stdout
    assert "application/captive+json" in api and '"captive": true' in api
    dhcp = Path("/run/carine-lab/tree/etc/carine/dnsmasq.conf").read_text()
    assert f'114,"{PORTAL}/api/captive"' in dhcp


def test_pupil_and_teacher_on_one_zone_get_their_own_policies(lab, people) -> None:
    pupil, teacher = Browser(lab, PUPIL), Browser(lab, TEACHER)
    pupil.login("eleve.lab", people["eleve.lab"]["password"], "Nouveau-eleve-42")
    teacher.login("prof.lab", people["prof.lab"]["password"], "Nouveau-prof-42")
    assert web(lab, PUPIL, "http://www.example.org/")[0] == "200"
    assert web(lab, PUPIL, f"https://{GAMES}/")[0] == "error"  # games: pupils' policy
    assert web(lab, TEACHER, f"https://{GAMES}/")[0] == "200"  # the teacher's
    blocked = web(lab, PUPIL, f"http://www.{GAMES}/jouer")
    assert blocked[0] == "302" and "games%2Feleve" in blocked[1]
    log = lab.proxy_log()
    assert re.search(rf" {lab.address(TEACHER)} \S+ prof\.lab .*{GAMES}", log)
    assert re.search(rf" {lab.address(PUPIL)} \S+ eleve\.lab .*games block eleve", log)
    status = pupil.get(f"{PORTAL}/statut")
    assert "eleve.lab" in status and "Se déconnecter" in status
    netns.wait_for("the refusal on the portal's status page",
                   lambda: GAMES in pupil.get(f"{PORTAL}/statut"), timeout=10)
    pupil.logout()
    assert web(lab, PUPIL, "http://www.example.org/")[1] == f"{PORTAL}/connexion"
    assert web(lab, PUPIL, "https://www.example.org/")[0] == "error"
    ended = connect(lab.store_path).execute(
        "SELECT end_reason FROM sessions WHERE login = 'eleve.lab' ORDER BY id DESC").fetchone()
    assert ended[0] == "logout"
    assert web(lab, TEACHER, "https://www.example.org/")[0] == "200"  # the teacher stays


def test_an_idle_session_ends_and_cuts_the_client_off(lab, people) -> None:
    teacher = Browser(lab, TEACHER)
    teacher.login("prof.lab", people["prof.lab"]["password"], "Nouveau-prof-43")
    address = str(lab.address(TEACHER))
    assert web(lab, TEACHER, "https://www.example.org/")[0] == "200"
    # A short idle timeout for this test: the element is given 3 s; with no traffic, the
    # kernel drops it and the portal's loop closes the session as idle.
    change = (f"delete element inet carine authorised {{ {address} }}\n"
              f"add element inet carine authorised {{ {address} timeout 3s }}\n")
    assert lab.exec("appliance", ["sh", "-c", f"printf '{change}' | nft -f -"]).ok
    netns.wait_for("the idle end of the session", lambda: session_of(lab, TEACHER) is None,
                   timeout=15)
    last = connect(lab.store_path).execute(
        "SELECT end_reason FROM sessions WHERE ip = ? ORDER BY id DESC", (address,)).fetchone()
    assert last[0] == "idle"
    assert web(lab, TEACHER, "http://www.example.org/")[1] == f"{PORTAL}/connexion"


def _carine(lab: LabDriver, *args: str):
    config = "/run/carine-lab/tree/etc/carine/portal.json"
    return lab.exec("appliance", [str(lab.programs / "carine"), *args, "--config", config,
                                  "--by", "referent.lab"], timeout=60)


def test_a_voucher_works_once(lab, people) -> None:
    made = _carine(lab, "vouchers", "create", "--count", "1", "--minutes", "30")
    assert made.ok, made.output()
    found = re.search(r'class="code">([A-Z0-9-]+)<', made.stdout)
    assert found, made.stdout[:300]
    code = found.group(1)
    guest = Browser(lab, PUPIL)
    page = guest.get(f"{PORTAL}/ticket")
    assert guest.post("/ticket", page, {"code": code, "accept": "y"})[1].endswith("/statut")
    session = session_of(lab, PUPIL)
    assert session is not None and session.method.value == "voucher"
    assert session.profile == "invite" and session.expires_at - session.started_at == 1800
    assert web(lab, PUPIL, "https://www.example.org/")[0] == "200"
    guest.logout()
    again = guest.post("/ticket", guest.get(f"{PORTAL}/ticket"), {"code": code, "accept": "y"})
    assert again[0] == "401"
    assert web(lab, PUPIL, "https://www.example.org/")[0] == "error"


def test_a_registered_printer_passes_without_login(lab) -> None:
    mac = lab.exec(PRINTER, ["cat", "/sys/class/net/eth0/address"]).stdout.strip()
    _carine(lab, "devices", "remove", mac)  # from an earlier run
    assert web(lab, PRINTER, "http://www.example.org/")[0] == "302"
    added = _carine(lab, "devices", "add", mac, "--name", "imprimante-cdi", "--kind",
                    "printer", "--owner", "CDI", "--profile", "invite", "--zone", "guest")
    assert added.ok, added.output()
    assert web(lab, PRINTER, "http://www.example.org/")[0] == "200"
    session = session_of(lab, PRINTER)
    assert session is not None and session.method.value == "device"
    assert session.login == "imprimante-cdi" and session.mac == mac
    assert "imprimante-cdi" in _carine(lab, "devices", "list").stdout
    assert _carine(lab, "devices", "remove", mac).ok
    assert web(lab, PRINTER, "http://www.example.org/")[0] == "302"


def test_who_visited_an_https_host_names_each_person_once(lab, people) -> None:
    """Spliced and refused HTTPS (issue 12 point 4): Squid logs the tunnel without the user and
    as TCP_TUNNEL/500; the journal names the session's user and says what happened, so "who
    visited H" answers one row per person, each with the login."""
    host = f"qui-{os.getpid()}.{GAMES}"  # a name no earlier run visited today
    teacher, pupil = Browser(lab, TEACHER), Browser(lab, PUPIL)
    teacher.login("prof.lab", people["prof.lab"]["password"], "Nouveau-prof-44")
    pupil.login("eleve.lab", people["eleve.lab"]["password"], "Nouveau-eleve-44")
    assert web(lab, TEACHER, f"https://{host}/")[0] == "200"  # spliced
    assert web(lab, PUPIL, f"https://{host}/")[0] == "error"  # refused at the SNI
    ips = {str(lab.address(TEACHER)): "prof.lab", str(lab.address(PUPIL)): "eleve.lab"}
    root = lab_layout().state / "journal"

    def journaled() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for path in sorted((root / "navigation").glob("*.sqlite")):
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            found += [{"at": at, **json.loads(body)} for at, body in conn.execute(
                "SELECT at, body FROM records WHERE body LIKE ?", (f'%"host":"{host}"%',))]
            conn.close()
        tunnels = [r for r in found if str(r["status"]).startswith("TCP_TUNNEL/")]
        refusals = [r for r in found if r["decision"] == "block"]
        return found if tunnels and refusals else []

    netns.wait_for("the visit and the refusal in the journal", lambda: bool(journaled()),
                   timeout=20)
    found = journaled()
    assert {(r["ip"], r["login"]) for r in found} == set(ips.items()), found
    statuses = {(ips[str(r["ip"])], str(r["status"])) for r in found}
    assert ("prof.lab", "TCP_TUNNEL/200") in statuses and ("eleve.lab", "TCP_DENIED/403") in \
        statuses, statuses
    assert not any(status.endswith("/500") for _, status in statuses), statuses
    zone = "Europe/Paris"
    day = datetime.fromtimestamp(int(found[0]["at"]) / 1e6, ZoneInfo(zone)).date()
    rows = query.visited(root, host, day, zone)
    assert sorted((r["login"], r["ip"]) for r in rows) == sorted(
        (login, ip) for ip, login in ips.items()), rows
    teacher.logout()
    pupil.logout()
