"""The real FreeRADIUS on the rendered lycée, in its own carine-radius-t namespace, with real
supplicants: eapol_test for PEAP-MSCHAPv2, TTLS/PAP and EAP-TLS, radclient for MAC
authentication and accounting. Every refusal must be a refusal for the right reason, and the
VLAN of each profile must be in the Access-Accept.

Needs root (a namespace) and freeradius, eapol_test, radclient: skipped without them on a
workstation, failed in CI. Does not use the shared lab (it has its own namespace)."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator

import pytest

from appliance.sessions import store
from appliance.site import Site
from network.radius import certs, issued
from network.radius.testbed import Testbed, add_account
from tests.conftest import require_root, require_tool

pytestmark = pytest.mark.lab

PUPIL = ("lea.martin", "Cheval-bleu-42", "eleve")
TEACHER = ("paul.durand", "Tableau-noir-17", "enseignant")
GONE = ("ancien.eleve", "Plus-la-9", "eleve")
LOCKED = ("tete.enlair", "Oublie-encore-3", "eleve")
PRINTER_MAC = "52:54:00:aa:bb:cc"


def _vlan(result_stdout: str) -> str | None:
    """Tunnel-Private-Group-Id of the Access-Accept, as eapol_test prints it (hex of the text)."""
    found = re.findall(r"Attribute 81 \(Tunnel-Private-Group-Id\) length=\d+\n\s+Value: (\w+)",
                       result_stdout)
    return bytes.fromhex(found[-1]).decode() if found else None


@pytest.fixture(scope="module")
def bed(lycee_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testbed]:
    require_root()
    for tool in ("freeradius", "eapol_test", "radclient", "ip", "openssl"):
        require_tool(tool)
    testbed = Testbed(lycee_site, tmp_path_factory.mktemp("radius"))
    testbed.prepare()
    conn = sqlite3.connect(testbed.state_db)
    from appliance.directory.schema import prepare

    prepare(conn)
    for login, password, profile in (PUPIL, TEACHER, GONE, LOCKED):
        add_account(conn, login, password, profile)
    conn.execute("UPDATE accounts SET state = 'deactivated' WHERE login = ?", (GONE[0],))
    conn.execute("UPDATE accounts SET locked_until = ? WHERE login = ?",
                 (time.time() + 3600, LOCKED[0]))
    conn.execute("INSERT INTO devices (mac, name, kind, owner, profile, zone, created_at, "
                 "created_by) VALUES (?, 'imprimante-cdi', 'printer', 'cdi', 'personnel', "
                 "NULL, 0, 'test')", (PRINTER_MAC,))
    conn.commit()
    conn.close()
    testbed.start()
    yield testbed
    testbed.stop()


def _journal(bed: Testbed, kind: str) -> list[dict[str, object]]:
    rows = []
    for segment in sorted((bed.journal / kind).glob("*.sqlite")):
        with sqlite3.connect(segment) as conn:
            rows += [json.loads(r[0]) for r in conn.execute("SELECT body FROM records")]
    return rows


def _last_auth(bed: Testbed, login: str) -> dict[str, object]:
    found = [r for r in _journal(bed, "auth") if r.get("login") == login]
    assert found, f"no auth record for {login}: {bed.log_tail()}"
    return found[-1]


@pytest.mark.parametrize("method", ["peap", "ttls"])
def test_password_methods_accept_the_right_password_with_the_profile_vlan(
        bed: Testbed, method: str) -> None:
    for login, password, profile in (PUPIL, TEACHER):
        result = bed.eapol(method, login, password)
        assert result.returncode == 0, result.stdout[-3000:] + bed.log_tail()
        vlan = bed.site.zone(bed.site.radius.profile_zones[profile]).vlan
        assert _vlan(result.stdout) == str(vlan)  # pupils 30, teachers 20
        assert "Attribute 64 (Tunnel-Type)" in result.stdout
        record = _last_auth(bed, login)
        assert record["outcome"] == "accept"
        assert record["method"] == ("peap-mschapv2" if method == "peap" else "ttls-pap")


@pytest.mark.parametrize("method", ["peap", "ttls"])
@pytest.mark.parametrize(("who", "password", "reason"), [
    (PUPIL[0], "pas-le-bon", "bad-password"),
    (GONE[0], GONE[1], "deactivated"),
    (LOCKED[0], LOCKED[1], "locked"),
    ("inconnu", "peu-importe", "unknown-login"),
])
def test_password_methods_refuse_with_the_reason_journaled(
        bed: Testbed, method: str, who: str, password: str, reason: str) -> None:
    result = bed.eapol(method, who, password)
    assert result.returncode != 0
    assert "CTRL-EVENT-EAP-FAILURE" in result.stdout
    record = _last_auth(bed, who)
    assert (record["outcome"], record["reason"]) == ("reject", reason)
    conn = sqlite3.connect(bed.state_db)
    conn.execute("UPDATE accounts SET failures = 0 WHERE login = ?", (PUPIL[0],))
    conn.commit()
    conn.close()


def test_eap_tls_accepts_a_device_certificate_then_refuses_it_once_revoked(
        bed: Testbed) -> None:
    cert, key = issued.issue(bed.paths, "tablette-cdi-07", TEACHER[0])
    ca, _ = certs.load_ca(bed.paths)
    key_path, cert_path, _ = issued.export(cert, key, ca, bed.work / "tablette", "pem", None)
    good = bed.eapol("tls", "tablette-cdi-07", cert=cert_path, key=key_path)
    assert good.returncode == 0, good.stdout[-3000:] + bed.log_tail()
    assert _vlan(good.stdout) == "20"
    assert _last_auth(bed, TEACHER[0])["method"] == "eap-tls"
    issued.revoke(bed.paths, "tablette-cdi-07")
    refused = bed.eapol("tls", "tablette-cdi-07", cert=cert_path, key=key_path)
    assert refused.returncode != 0
    record = _last_auth(bed, TEACHER[0])
    assert (record["outcome"], record["reason"]) == ("reject", "certificate-revoked")


def test_the_crl_alone_refuses_a_revoked_certificate_after_a_restart(bed: Testbed) -> None:
    """FreeRADIUS itself (check_crl) refuses it: the TLS handshake fails before our backend is
    asked, which the log shows as OpenSSL's 'certificate revoked'."""
    cert, key = issued.issue(bed.paths, "portable-crl", PUPIL[0])
    ca, _ = certs.load_ca(bed.paths)
    key_path, cert_path, _ = issued.export(cert, key, ca, bed.work / "crl", "pem", None)
    issued.revoke(bed.paths, "portable-crl")
    bed.stop()
    bed.start()
    refused = bed.eapol("tls", "portable-crl", cert=cert_path, key=key_path)
    assert refused.returncode != 0
    assert "certificate revoked" in bed.log_tail(20000)


def test_eap_tls_refuses_the_certificate_of_a_deactivated_account(bed: Testbed) -> None:
    cert, key = issued.issue(bed.paths, "ancien-pc", GONE[0])
    ca, _ = certs.load_ca(bed.paths)
    key_path, cert_path, _ = issued.export(cert, key, ca, bed.work / "ancien", "pem", None)
    refused = bed.eapol("tls", "ancien-pc", cert=cert_path, key=key_path)
    assert refused.returncode != 0
    assert _last_auth(bed, GONE[0])["reason"] == "deactivated"


def test_mac_authentication_of_a_registered_device_and_refusal_of_others(bed: Testbed) -> None:
    mab = PRINTER_MAC.replace(":", "")
    ok = bed.radclient("auth", {"User-Name": mab, "User-Password": mab,
                                "Calling-Station-Id": PRINTER_MAC.upper().replace(":", "-")})
    assert "Access-Accept" in ok.stdout, ok.output()
    assert 'Tunnel-Private-Group-Id:0 = "10"' in ok.stdout or \
        'Tunnel-Private-Group-Id = "10"' in ok.stdout, ok.stdout  # personnel -> admin
    other = "525400aabbcd"
    refused = bed.radclient("auth", {"User-Name": other, "User-Password": other,
                                     "Calling-Station-Id": "52-54-00-AA-BB-CD"})
    assert "Access-Reject" in refused.stdout
    rejects = [r for r in _journal(bed, "auth") if r.get("mac") == "52:54:00:aa:bb:cd"]
    assert [r["reason"] for r in rejects] == ["unknown-device"]  # journaled once


def test_accounting_start_and_stop_open_and_close_an_802_1x_session(bed: Testbed) -> None:
    mac, ip = "02:00:00:00:00:42", "10.30.0.142"
    (bed.layout.state / "dnsmasq.leases").write_text(f"9999999999 {mac} {ip} tablette *\n")
    base = {"Acct-Session-Id": "A-42", "User-Name": "anonymous", "Class": f"carine:u:{PUPIL[0]}",
            "Calling-Station-Id": mac.replace(":", "-"), "NAS-IP-Address": "10.99.0.10"}
    start = bed.radclient("acct", {"Acct-Status-Type": "Start", **base})
    assert "Accounting-Response" in start.stdout, start.output()
    conn = store.open_store(bed.state_db)
    session = store.by_ip(conn, ip)
    assert session is not None
    assert (session.method.value, session.login, session.profile, session.zone) == \
        ("802.1x", PUPIL[0], "eleve", "pedago")
    bed.radclient("acct", {"Acct-Status-Type": "Stop", "Acct-Terminate-Cause": "User-Request",
                           **base})
    assert store.by_ip(conn, ip) is None
    closed = store.get(conn, session.id)
    assert closed is not None and closed.end_reason == "stop"
    events = [(r["event"], r["method"]) for r in _journal(bed, "session")
              if r.get("acct_session") == "10.99.0.10/A-42"]
    assert events == [("start", "802.1x"), ("stop", "802.1x")]


def test_no_secret_or_password_reaches_the_log_or_the_journal(bed: Testbed) -> None:
    text = bed.log_tail(10**7) + json.dumps(_journal(bed, "auth"))
    for secret in (PUPIL[1], TEACHER[1], bed.secret()):
        assert secret not in text
