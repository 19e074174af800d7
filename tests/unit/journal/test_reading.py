"""Reading: only data controllers, every read journaled; the judicial questions answer right;
the export verifies on its own (its verifier.py, outside CARINE) and fails once tampered."""

from __future__ import annotations

import json
import sys
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from appliance.journal import Journal, JournalError, access, roles
from appliance.journal.purge import purge
from appliance.journal.seal import pack_due
from appliance.journal.verify import verify
from appliance.run import run
from tests.unit.journal.conftest import DAY0

pytestmark = pytest.mark.unit


@pytest.fixture(params=["rows", "packed"])
def sealed(request: pytest.FixtureRequest, sealed: Path) -> Path:
    """Every reading test on sealed days as rows, then with its first two days packed."""
    if request.param == "packed":
        said = pack_due(sealed, now=DAY0 + timedelta(days=4))
        assert said == ["packed session 2026-03-09: 20 records in 1 blocks",
                        "packed session 2026-03-10: 20 records in 1 blocks",
                        "packed navigation 2026-03-09: 50 records in 1 blocks",
                        "packed navigation 2026-03-10: 50 records in 1 blocks"], said
    return sealed


def _reads(root: Path) -> list[dict[str, object]]:
    import sqlite3

    out = []
    for path in sorted((root / "read").glob("*.sqlite")):
        with sqlite3.connect(path) as conn:
            out += [json.loads(b) for (b,) in conn.execute("SELECT body FROM records")]
    return out


def test_reading_needs_the_role_and_is_journaled(sealed: Path) -> None:
    with Journal.open(sealed) as journal:
        with pytest.raises(JournalError, match="does not hold the data-controller role"):
            access.who_had(journal, "mallory", "10.30.0.3", DAY0 + timedelta(hours=1))
        roles.grant(journal, "principal", actor="root")
        found = access.who_had(journal, "principal", "10.30.0.3", DAY0 + timedelta(hours=1))
        assert found[0]["session"]["login"] == "u3" and found[0]["session"]["holds"]
        roles.revoke(journal, "principal", actor="root")
        with pytest.raises(JournalError):
            access.visited(journal, "principal", "site1.fr", date(2026, 3, 10))
    reads = _reads(sealed)
    assert [(r["actor"], r["outcome"]) for r in reads] == [
        ("mallory", "refused"), ("principal", "answered"), ("principal", "refused")]
    assert reads[1]["count"] == 1 and "10.30.0.3" in str(reads[1]["query"])


def test_who_had_an_ip(sealed: Path) -> None:
    from appliance.journal.query import who_had

    during = who_had(sealed, "10.30.0.4", DAY0 + timedelta(days=1, hours=3))
    assert during[0]["session"]["login"] == "u4" and during[0]["session"]["holds"]
    after = who_had(sealed, "10.30.0.4", DAY0 + timedelta(days=1, hours=9))
    assert after[0]["session"]["event"] == "end" and not after[0]["session"]["holds"]
    assert who_had(sealed, "10.30.0.200", DAY0 + timedelta(hours=1)) == []


def test_who_had_a_public_ip_and_port(tmp_path: Path) -> None:
    from appliance.journal.query import who_had

    root = tmp_path / "j"
    t = datetime(2026, 3, 10, 9, tzinfo=UTC)
    with Journal.open(root) as journal:
        journal.append("session", {"event": "start", "login": "alice", "ip": "10.30.0.7"},
                       at=t - timedelta(hours=1))
        journal.append("session", {"event": "start", "login": "bob", "ip": "10.30.0.8"},
                       at=t - timedelta(hours=1))
        for ip, port in (("10.30.0.7", 40001), ("10.30.0.8", 40002)):
            journal.append("nat", {"ip": ip, "port_in": port, "dst": "198.18.0.10",
                                   "dport": 443, "proto": "tcp", "pub_ip": "203.0.113.10",
                                   "pub_port": port}, at=t - timedelta(seconds=30))
    found = who_had(root, "203.0.113.10", t, port=40002)
    assert len(found) == 1 and found[0]["session"]["login"] == "bob"
    assert {f["session"]["login"] for f in who_had(root, "203.0.113.10", t)} == {"alice", "bob"}


def test_who_visited_a_host_on_a_day(sealed: Path) -> None:
    from appliance.journal.query import visited

    rows = visited(sealed, "site3.fr", date(2026, 3, 10))
    # requests i = 3, 10, 17, 24, 31, 38, 45 of that day: users u4, u1, u8, u5, u2, u9, u6
    assert sorted(r["login"] for r in rows) == sorted(f"u{n}" for n in (4, 1, 8, 5, 2, 9, 6))
    assert visited(sealed, "site3.fr", date(2026, 3, 20)) == []
    assert visited(sealed, "fr", date(2026, 3, 10), subdomains=True)  # a whole domain


def test_export_proves_itself_outside_carine(sealed: Path, tmp_path: Path) -> None:
    out = tmp_path / "export.zip"
    with Journal.open(sealed) as journal:
        roles.grant(journal, "principal", actor="root")
        count, digest = access.export_to(journal, "principal", DAY0, DAY0 + timedelta(days=2),
                                         out, ip="10.30.0.2")
    assert count == 2 * (5 + 2)  # per day: 5 requests from u2, a session start and end
    assert out.stat().st_mode & 0o777 == 0o600
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(out) as archive:
        archive.extractall(folder)
        assert "LISEZMOI.txt" in archive.namelist()
    # The verifier runs with the system Python, in another folder, importing nothing of ours.
    result = run([sys.executable, "-I", str(folder / "verifier.py"), str(folder)], check=False)
    assert result.ok, result.output()
    assert "OK" in result.stdout
    lines = (folder / "enregistrements.jsonl").read_text().splitlines()
    assert all(json.loads(line)["fields"]["ip"] == "10.30.0.2" for line in lines)
    # One changed character in one record: both the manifest and the Merkle path disagree.
    records = folder / "enregistrements.jsonl"
    records.write_text(records.read_text().replace("www.site", "www.sitf", 1))
    result = run([sys.executable, "-I", str(folder / "verifier.py"), str(folder)], check=False)
    assert not result.ok
    assert "does not match the seal" in result.stdout and "MANIFESTE" in result.stdout
    assert digest and len(digest) == 64


def test_retention_purges_and_verify_accepts_it(sealed: Path) -> None:
    now = DAY0 + timedelta(days=8)
    said = purge(sealed, {"navigation": 5, "session": 365}, now=now)
    # navigation of 9 March is older than 5 days on the 17th (day 12 March is the limit)
    purged = [line for line in said if line.startswith("purged")]
    assert purged == ["purged navigation 2026-03-09: 50 records (older than 5 days)",
                      "purged navigation 2026-03-10: 50 records (older than 5 days)",
                      "purged navigation 2026-03-11: 50 records (older than 5 days)"]
    assert not (sealed / "navigation/2026-03-09.sqlite").exists()
    assert (sealed / "session/2026-03-09.sqlite").exists()
    report = verify(sealed)
    assert report.ok, report.problems
    assert purge(sealed, {"navigation": 5}, now=now) == []  # nothing twice
