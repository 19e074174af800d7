"""The storage in the lab, for real: a pupil's PC of the pedagogical zone reaches its home on
the appliance over HTTPS (the name from the appliance's DNS, the port opened by nftables),
puts and gets homework, and the lab's clamd refuses the EICAR file; a guest's device reaches
no storage at all, on its own gateway or on the pupils'."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from appliance.lab.driver import LabDriver
from appliance.lab.topology import LAB_DIR, lab_layout
from appliance.site import load_site
from tests.lab.conftest import SITE

pytestmark = pytest.mark.lab

SITE_MODEL = load_site(SITE)
PUPIL_PC, GUEST = "pedago-1", "guest-1"
PORT = SITE_MODEL.storage.port
URL = f"https://carine.{SITE_MODEL.lan.domain}:{PORT}"
EICAR = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def _credentials() -> tuple[str, str]:
    accounts = json.loads((LAB_DIR / "accounts.json").read_text())
    return "eleve.lab", accounts["eleve.lab"]["password"]


def _cacert() -> str:
    """The certificate the storage serves (its PEM holds the key too: only the certificate)."""
    pem = (lab_layout().state / "tls" / "appliance.pem").read_text()
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept for the test's lifetime
        "w", prefix="carine-lab-storage-", suffix=".pem", dir=LAB_DIR, delete=False)
    handle.write(pem[pem.index("-----BEGIN CERTIFICATE-----"):])
    handle.close()
    return handle.name


def _dav(lab: LabDriver, node: str, cacert: str, method: str, path: str,
         data: Path | None = None) -> tuple[str, bytes]:
    """(status, body) of one request by the lab's pupil from ``node``."""
    login, password = _credentials()
    out = Path(cacert).with_suffix(".out")
    argv = ["curl", "-sS", "--max-time", "20", "--noproxy", "*", "--cacert", cacert,
            "-u", f"{login}:{password}", "-X", method, "-o", str(out), "-w", "%{http_code}"]
    if method == "PROPFIND":
        argv += ["-H", "Depth: 1"]
    if data is not None:
        argv += ["--data-binary", f"@{data}"]
    result = lab.exec(node, [*argv, f"{URL}{path}"], timeout=30)
    assert result.ok, result.output()
    return result.stdout.strip(), out.read_bytes() if out.exists() else b""


def test_a_pupil_reaches_its_home_through_the_appliance(lab: LabDriver) -> None:
    cacert = _cacert()
    homework = Path(cacert).with_suffix(".odt")
    homework.write_bytes(bytes(range(256)) * 40)
    virus = Path(cacert).with_suffix(".com")
    virus.write_text(EICAR)
    code, body = _dav(lab, PUPIL_PC, cacert, "PROPFIND", "/")
    assert code == "207" and b"/perso/" in body and b"administration" not in body, body
    assert _dav(lab, PUPIL_PC, cacert, "PUT", "/perso/devoir.odt", homework)[0] in ("201", "204")
    home = lab_layout().state / "storage" / "tree" / "homes" / "eleve.lab"
    assert (home / "devoir.odt").read_bytes() == homework.read_bytes()
    code, body = _dav(lab, PUPIL_PC, cacert, "GET", "/perso/devoir.odt")
    assert code == "200" and body == homework.read_bytes()
    # The lab's clamd (a local EICAR signature) stands for Debian's clamav-daemon.
    code, body = _dav(lab, PUPIL_PC, cacert, "PUT", "/perso/jeu.com", virus)
    assert code == "403" and b"Virus" in body, body
    assert not (home / "jeu.com").exists()


def test_a_guest_reaches_no_storage(lab: LabDriver) -> None:
    guest_gw = str(SITE_MODEL.zone("guest").gateway())
    pupils_gw = str(SITE_MODEL.zone("pedago").gateway())
    for host in (guest_gw, pupils_gw):
        result = lab.probe(GUEST, "tcp", host, PORT)
        assert not result.ok, (host, result.output())
    # The storage itself answers the pupils' zone meanwhile (the refusal is the guest's).
    assert lab.probe(PUPIL_PC, "tcp", pupils_gw, PORT).ok
