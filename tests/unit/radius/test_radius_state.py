"""RADIUS state: secrets and the CA made once and kept (0600), client certificates issued and
revoked with the CRL, expiry dates for the exporter; the backend's decisions and accounting
on a real state store (FreeRADIUS itself is in tests/lab/test_radius.py)."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12

from appliance.directory.schema import open_directory
from appliance.render.layout import Layout
from appliance.sessions import store
from network.radius import certs, issued, leasehook, secrets
from network.radius.accounting import Accounting
from network.radius.context import Context
from network.radius.decide import Decider
from network.radius.paths import RadiusPaths
from network.radius.request import Request, normalise_mac, parse_class
from network.radius.settings import settings_for
from network.radius.state import ensure_state
from network.radius.testbed import add_account

pytestmark = pytest.mark.unit


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    return Layout.in_tree(tmp_path)


@pytest.fixture
def made(lycee_site, layout: Layout):
    settings = settings_for(lycee_site, layout)
    ensure_state(layout, settings)
    return settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_is_made_once_and_kept(made, layout: Layout) -> None:
    paths = RadiusPaths.of(layout)
    ca, secret = paths.ca_cert.read_bytes(), secrets.read(paths, "bornes")
    assert ensure_state(layout, made) == []
    assert paths.ca_cert.read_bytes() == ca and secrets.read(paths, "bornes") == secret
    for private in (paths.ca_key, paths.server_key, paths.secret_conf("bornes")):
        assert _mode(private) == 0o600
    assert len(secret) == secrets.LENGTH and secret.isalnum()
    server = x509.load_pem_x509_certificate(paths.server_cert.read_bytes())
    assert server.subject.rfc4514_string().startswith("CN=radius.perrin.lan")


def test_issue_export_and_revoke(made, layout: Layout, tmp_path: Path) -> None:
    paths = RadiusPaths.of(layout)
    cert, key = issued.issue(paths, "tablette-07", "lea.martin")
    ca, _ = certs.load_ca(paths)
    [p12] = issued.export(cert, key, ca, tmp_path / "out", "p12", "motdepasse")
    loaded = pkcs12.load_pkcs12(p12.read_bytes(), b"motdepasse")
    assert loaded.cert is not None and loaded.cert.certificate.serial_number == cert.serial_number
    assert _mode(p12) == 0o600
    expiry = certs.write_expiry(paths)
    assert {"radius-ca", "radius-server", "radius-crl", "radius-client-tablette-07"} <= set(expiry)
    gone = issued.revoke(paths, format(cert.serial_number, "x"))
    crl = x509.load_pem_x509_crl(paths.crl.read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert gone.revoked_at is not None and "radius-client-tablette-07" not in \
        certs.write_expiry(paths)
    with pytest.raises(Exception, match="no valid certificate"):
        issued.revoke(paths, "tablette-07")


def test_mac_and_class_helpers() -> None:
    assert normalise_mac("52-54-00-AA-BB-CC") == normalise_mac("5254.00aa.bbcc") == \
        "52:54:00:aa:bb:cc"
    assert normalise_mac("not a mac") is None
    assert parse_class("0x" + b"carine:u:lea.martin".hex()) == ("u", "lea.martin")
    assert parse_class("other") is None


def _req(stage: str, **attrs: str) -> Request:
    return Request({"request": tuple(attrs.items()),
                    "config": (("Tmp-String-0", stage),), "reply": ()})


@pytest.fixture
def ctx(made, layout: Layout) -> Context:
    conn = open_directory(layout.state / "state.sqlite")
    add_account(conn, "lea.martin", "Cheval-bleu-42", "eleve")
    conn.close()
    return Context(made)


def test_inner_decisions(ctx: Context) -> None:
    d = Decider(ctx)
    peap = d.authorize(_req("inner", **{"User-Name": "Lea.Martin"}))
    assert peap.code == "updated" and peap.config[0][0] == "NT-Password"
    pap = d.authorize(_req("inner", **{"User-Name": "lea.martin", "User-Password": "x"}))
    assert pap.config == (("Auth-Type", "carine"),)
    good = d.authenticate(_req("inner", **{"User-Name": "lea.martin",
                                           "User-Password": "Cheval-bleu-42"}))
    bad = d.authenticate(_req("inner", **{"User-Name": "lea.martin", "User-Password": "non"}))
    assert (good.code, bad.code, bad.config) == ("ok", "reject",
                                                  (("Tmp-String-2", "bad-password"),))
    accept = d.post_auth(_req("inner", **{"User-Name": "lea.martin"}))
    assert ("Tunnel-Private-Group-Id", "30") in accept.reply
    assert ("Class", "carine:u:lea.martin") in accept.reply
    ctx.db().execute("UPDATE accounts SET state = 'deactivated'")
    ctx.db().commit()
    assert d.authorize(_req("inner", **{"User-Name": "lea.martin"})).config == \
        (("Tmp-String-2", "deactivated"),)


def test_accounting_waits_for_the_lease_then_opens_and_closes(ctx: Context, layout: Layout
                                                              ) -> None:
    acct = Accounting(ctx)
    base = {"Acct-Session-Id": "X1", "NAS-IP-Address": "10.99.0.10",
            "Calling-Station-Id": "02-00-00-00-00-09", "Class": "carine:u:lea.martin"}
    assert acct.handle(_req("outer", **{"Acct-Status-Type": "Start", **base})).startswith(
        "pending")
    leases = Path(ctx.settings.leases)
    leases.write_text("9999999999 02:00:00:00:00:09 10.30.0.9 pc *\n")
    assert acct.handle(_req("outer", **{"Acct-Status-Type": "Interim-Update", **base})) == "start"
    conn = sqlite3.connect(layout.state / "state.sqlite")
    session = store.by_ip(store.open_store(layout.state / "state.sqlite"), "10.30.0.9")
    assert session is not None and session.login == "lea.martin" and session.zone == "pedago"
    assert acct.handle(_req("outer", **{"Acct-Status-Type": "Stop", **base})) == "stop"
    assert conn.execute("SELECT end_reason FROM sessions").fetchone() == ("stop",)


def _records(journal: Path, kind: str) -> list[dict[str, object]]:
    rows = []
    for segment in sorted((journal / kind).glob("*.sqlite")):
        with sqlite3.connect(segment) as conn:
            rows += [json.loads(r[0]) for r in conn.execute("SELECT body FROM records")]
    return rows


def test_the_lease_opens_the_session_that_waited_for_it(ctx: Context, layout: Layout) -> None:
    """Issue 12 point 1: the access point's Start comes before the client asks DHCP; dnsmasq's
    lease hook opens the session at once, not at the next interim update (10 minutes on)."""
    acct = Accounting(ctx, clock=lambda: 1_800_000_000.0)
    base = {"Acct-Session-Id": "X2", "NAS-IP-Address": "10.99.0.10",
            "Calling-Station-Id": "02-00-00-00-00-0A", "Class": "carine:u:lea.martin"}
    assert acct.handle(_req("outer", **{"Acct-Status-Type": "Start", **base})).startswith(
        "pending")
    assert acct.bind_lease("02:00:00:00:00:0b", "10.30.0.11") == []  # another client
    assert acct.bind_lease("02:00:00:00:00:0A", "10.30.0.10") == ["lea.martin"]
    db = store.open_store(layout.state / "state.sqlite")
    session = store.by_ip(db, "10.30.0.10")
    assert session is not None and (session.login, session.mac, session.zone) == \
        ("lea.martin", "02:00:00:00:00:0a", "pedago")
    assert session.started_at == 1_800_000_000.0
    assert acct.bind_lease("02:00:00:00:00:0a", "10.30.0.10") == []  # a renewal: no second one
    assert acct.handle(_req("outer", **{"Acct-Status-Type": "Interim-Update", **base})) == "seen"
    ctx.close()
    starts = [r for r in _records(Path(ctx.settings.journal), "session")
              if r["event"] == "start" and r["ip"] == "10.30.0.10"]
    assert [(r["login"], r["acct_session"]) for r in starts] == [("lea.martin", "10.99.0.10/X2")]


def test_the_lease_hook_reads_dnsmasq_arguments(ctx: Context, layout: Layout,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    settings = layout.etc("carine/freeradius/carine.json")
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(ctx.settings.to_json(), encoding="utf-8")
    Accounting(ctx).handle(_req("outer", **{
        "Acct-Status-Type": "Start", "Acct-Session-Id": "X3", "NAS-IP-Address": "10.99.0.10",
        "Calling-Station-Id": "02:00:00:00:00:0c", "Class": "carine:u:lea.martin"}))
    monkeypatch.delenv(leasehook.SETTINGS_ENV, raising=False)
    assert leasehook.main(["add", "02:00:00:00:00:0c", "10.30.0.12", "pc"]) == 1  # says why
    monkeypatch.setenv(leasehook.SETTINGS_ENV, str(settings))
    assert leasehook.main(["init"]) == 0
    assert leasehook.main(["add", "02:00:00:00:00:0d", "10.30.0.13", "pc"]) == 0  # none waits
    assert not leasehook.waiting(layout.state / "absent.sqlite", "02:00:00:00:00:0c")
    assert leasehook.main(["del", "02:00:00:00:00:0c", "10.30.0.12"]) == 0
    assert store.by_ip(store.open_store(layout.state / "state.sqlite"), "10.30.0.12") is None
    assert leasehook.main(["add", "02:00:00:00:00:0c", "10.30.0.12", "pc"]) == 0
    found = store.by_ip(store.open_store(layout.state / "state.sqlite"), "10.30.0.12")
    assert found is not None and found.login == "lea.martin"
