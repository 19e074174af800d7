"""Spliced and refused HTTPS in the journal (issue 12 point 4): Squid logs the tunnel without
the helper's user and as TCP_TUNNEL/500; the journal names the session's user (by client IP,
at the line's time) and records a splice as TCP_TUNNEL/200, a refusal as TCP_DENIED/403, so
"who visited H" gives one row per person, with the login."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from appliance.journal import Journal, squidlog
from appliance.journal.attribution import Attribution
from appliance.journal.query import visited
from appliance.sessions import store as sessions

pytestmark = pytest.mark.unit

T = int(datetime(2026, 3, 10, 9, tzinfo=UTC).timestamp())  # 10:00 in Paris
TEACHER, PUPIL, OTHER = "10.40.0.20", "10.40.0.21", "10.40.0.22"
MAC = "76:30:a5:08:67:6a"


def _lines(t: int, ip: str, host: str, user: str = "-", refused: bool = False) -> list[str]:
    """What Squid 5.7 writes for one intercepted HTTPS visit (lines seen in the lab): the peek's
    transaction with the helper's answer, then (unless refused) the spliced tunnel's, bare."""
    if refused:
        return [f"{t}.100 {ip} {MAC} {user} NONE_NONE/000 CONNECT 198.18.1.1:443 {host} - 0 "
                "games block eleve category\n"]
    return [f"{t}.100 {ip} {MAC} {user} NONE_NONE/000 CONNECT 198.18.1.1:443 {host} - 0 "
            "games allow enseignant -\n",
            f"{t}.104 {ip} {MAC} - TCP_TUNNEL/500 CONNECT {host}:443 {host} 198.18.1.1 1516 "
            "- - - -\n"]


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A state store where prof.lab holds TEACHER since T-60 and eleve.lab held PUPIL from
    T-600 to T+30 (logged out): OTHER has never had a session."""
    path = tmp_path / "state.sqlite"
    conn = sessions.open_store(path)

    def start(login: str, profile: str, ip: str, now: float) -> sessions.Session:
        return sessions.start(conn, method=sessions.Method.PORTAL, login=login, profile=profile,
                              ip=ip, mac=MAC, zone="guest", now=now, idle_timeout=900.0,
                              lifetime=36000.0)[0]

    start("prof.lab", "enseignant", TEACHER, T - 60)
    pupil = start("eleve.lab", "eleve", PUPIL, T - 600)
    sessions.end(conn, pupil.id, "logout", T + 30)
    conn.close()
    return path


def _ingest(root: Path, lines: list[str], store: Path | None) -> list[dict[str, object]]:
    who = Attribution(store) if store else None
    if who is not None:
        who.refresh()
    rows, skipped = squidlog.parse_lines(lines, who.login_at if who else None)
    assert skipped == 0
    with Journal.open(root) as journal:
        journal.append_micros("navigation", rows)
    if who is not None:
        who.close()
    return [json.loads(body) for _, body, _ in rows]


def test_a_spliced_visit_is_one_row_with_the_session_login(tmp_path: Path, store: Path) -> None:
    records = _ingest(tmp_path / "j", _lines(T, TEACHER, "poki.com", user="prof.lab"), store)
    assert [r["login"] for r in records] == ["prof.lab", "prof.lab"]
    assert [r["status"] for r in records] == ["NONE_NONE/000", "TCP_TUNNEL/200"]
    rows = visited(tmp_path / "j", "poki.com", date(2026, 3, 10))
    assert [(r["login"], r["ip"]) for r in rows] == [("prof.lab", TEACHER)]


def test_a_refusal_is_a_refusal_of_the_user_who_held_the_address(tmp_path: Path,
                                                                  store: Path) -> None:
    # The pupil's session ended since (T+30): the line at T is still theirs.
    records = _ingest(tmp_path / "j", _lines(T, PUPIL, "poki.com", refused=True), store)
    assert records[0]["login"] == "eleve.lab"
    assert records[0]["status"] == "TCP_DENIED/403" and records[0]["decision"] == "block"


def test_no_session_no_login_and_no_one_elses(tmp_path: Path, store: Path) -> None:
    lines = (_lines(T, OTHER, "a.fr") + _lines(T + 60, PUPIL, "b.fr")  # after the logout
             + _lines(T - 120, TEACHER, "c.fr"))  # before the teacher's login
    assert {r["login"] for r in _ingest(tmp_path / "j", lines, store)} == {None}


def test_without_a_store_squid_s_user_is_kept(tmp_path: Path) -> None:
    records = _ingest(tmp_path / "j", _lines(T, TEACHER, "poki.com", user="prof.lab"),
                      tmp_path / "absent.sqlite")
    assert [r["login"] for r in records] == ["prof.lab", None]
    assert records[1]["status"] == "TCP_TUNNEL/200"


@pytest.mark.parametrize(("line", "status"), [
    # A tunnel that never reached a server is not made a success.
    ("T 10.0.0.1 - - TCP_TUNNEL/503 CONNECT x.fr:443 x.fr - 0 - - - -", "TCP_TUNNEL/503"),
    ("T 10.0.0.1 - - TCP_TUNNEL/200 CONNECT x.fr:443 - 198.18.1.1 9 - - - -",
     "TCP_TUNNEL/200"),
    # An explicit CONNECT refused by http_access is Squid's own TCP_DENIED.
    ("T 10.0.0.1 - - TCP_DENIED/403 CONNECT x.fr:443 - - 0 games block eleve category",
     "TCP_DENIED/403"),
    ("T 10.0.0.1 - - TCP_MISS/500 GET http://x.fr/ - 198.18.1.1 9 - allow eleve -",
     "TCP_MISS/500"),
])
def test_other_statuses_are_squid_s(line: str, status: str) -> None:
    row = squidlog.parse(line.replace("T", f"{T}.000", 1))
    assert row is not None and json.loads(row[1])["status"] == status
