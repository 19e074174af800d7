"""The legal journal in the running lab: the journal daemon turns the real Squid's access log
into navigation records and the real conntrack table into NAT records naming the right internal
client; a tampered segment is found; an export for an IP and a window names the right person."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from appliance.journal import Journal, query, roles
from appliance.journal.access import export_to
from appliance.lab.driver import LabDriver
from appliance.lab.topology import UPLINK_ADDRESS, WEB_ADDRESS, lab_layout
from appliance.run import run

pytestmark = pytest.mark.lab

PUPIL, STAFF = "pedago-1", "staff-1"
SITE_ZONE = "Europe/Paris"  # examples/site.yaml keeps the default time zone
CARINE = str(Path(sys.executable).parent / "carine")


def journal_root() -> Path:
    return lab_layout().state / "journal"


def records(kind: str, since: datetime) -> list[dict[str, Any]]:
    """Today's (and yesterday's) records of ``kind`` since ``since``, read-only."""
    out = []
    for path in sorted((journal_root() / kind).glob("*.sqlite")):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        rows = conn.execute("SELECT at, body FROM records WHERE at >= ?",
                            (int(since.timestamp() * 1e6),)).fetchall()
        conn.close()
        out += [{"at": at, **json.loads(body)} for at, body in rows]
    return out


def wait_for(what: str, probe: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what}: not journaled within {timeout:.0f} s")


def test_squid_requests_become_navigation_records(lab: LabDriver) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    assert lab.curl(PUPIL, "http://www.education.gouv.fr/journal-test").ok
    pupil = str(lab.address(PUPIL))
    hits = wait_for("pupil's request", lambda: [
        r for r in records("navigation", start)
        if r["ip"] == pupil and r["host"] == "www.education.gouv.fr"])
    assert hits[0]["decision"] == "allow" and hits[0]["mac"]
    assert "journal-test" not in json.dumps(hits)  # the host only, never the path
    # "Who visited on day D" asks the site's day (Europe/Paris in the lab's site), not the
    # host's: near midnight UTC the two differ.
    day = datetime.fromtimestamp(hits[0]["at"] / 1e6, ZoneInfo(SITE_ZONE)).date()
    rows = query.visited(journal_root(), "education.gouv.fr", day, SITE_ZONE)
    assert any(row["ip"] == pupil for row in rows)


def test_nat_record_names_the_internal_client(lab: LabDriver) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    assert lab.probe(STAFF, "tcp", str(WEB_ADDRESS), 993).ok  # mail: direct, source-NATed
    staff = str(lab.address(STAFF))
    hits = wait_for("staff's connection", lambda: [
        r for r in records("nat", start) if r["ip"] == staff and r["dport"] == 993])
    nat = hits[-1]
    assert nat["pub_ip"] == str(UPLINK_ADDRESS.ip) and nat["dst"] == str(WEB_ADDRESS)
    # The judicial question as it arrives: the public address and port, and a time.
    found = query.who_had(journal_root(), nat["pub_ip"], datetime.now(UTC), nat["pub_port"])
    assert found and found[0]["nat"]["ip"] == staff


def test_tampered_segment_is_found_and_export_names_the_person(
        lab: LabDriver, tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    assert lab.curl(PUPIL, "http://www.education.gouv.fr/").ok
    pupil, mac = str(lab.address(PUPIL)), None
    hits = wait_for("pupil's request", lambda: [
        r for r in records("navigation", start) if r["ip"] == pupil])
    mac = hits[0]["mac"]
    # A copy of the lab's journal built from the lab's own Squid log, so tampering hurts no one.
    root = tmp_path / "journal"
    log = lab_layout().log / "squid/access.log"
    done = run([CARINE, "journal", "--root", str(root), "ingest-squid", str(log)])
    assert "navigation records" in done.stdout
    # The pedago zone has no portal in the example site: the session is written as the portal
    # writes it, with the pupil's real address and MAC.
    with Journal.open(root) as journal:
        journal.append("session", {"event": "start", "method": "portal", "login": "jdupont",
                                   "profile": "eleve", "ip": pupil, "mac": mac,
                                   "zone": "pedago"}, at=start - timedelta(minutes=5))
        roles.grant(journal, "proviseur", actor="test")
        count, _ = export_to(journal, "proviseur", start - timedelta(minutes=10),
                             datetime.now(UTC) + timedelta(minutes=1), tmp_path / "x.zip",
                             ip=pupil)
    assert count >= 2
    with zipfile.ZipFile(tmp_path / "x.zip") as archive:
        lines = archive.read("enregistrements.jsonl").decode().splitlines()
    fields = [json.loads(line)["fields"] for line in lines]
    assert {f["ip"] for f in fields} == {pupil}
    assert any(f.get("login") == "jdupont" for f in fields)
    assert run([CARINE, "journal", "--root", str(root), "verify"], check=False).ok
    segment = next((root / "navigation").glob("*.sqlite"))
    with sqlite3.connect(segment) as conn:
        conn.execute("""UPDATE records SET body = replace(body, '"ip":"', '"ip":"1') """
                     "WHERE seq = 1")
    verdict = run([CARINE, "journal", "--root", str(root), "verify"], check=False)
    assert verdict.returncode == 1
    assert f"segment navigation/{segment.stem}: record 1 was altered" in verdict.stdout
