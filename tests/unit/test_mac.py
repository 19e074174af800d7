"""MAC addresses in one normal form (issue 12 point 10): every spelling a switch, an access
point, the kernel, dnsmasq or an import writes becomes ``aa:bb:cc:dd:ee:ff`` (netaddr's EUI-48),
so a device registered in one spelling is found by RADIUS in another."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.directory.schema import open_directory
from network.mac import normalise_mac
from network.portal import devices
from network.radius.directory import device
from network.radius.request import Request

pytestmark = pytest.mark.unit

NORMAL = "52:54:00:ab:0c:de"


@pytest.mark.parametrize(("written", "who"), [
    ("52:54:00:ab:0c:de", "Linux, dnsmasq, /proc/net/arp"),
    ("52:54:00:AB:0C:DE", "upper case (a technician)"),
    ("52-54-00-AB-0C-DE", "Calling-Station-Id (RFC 3580), Windows"),
    ("5254.00ab.0cde", "Cisco"),
    ("525400-ab0cde", "HPE/Aruba switches"),
    ("5254-00ab-0cde", "grouped by four"),
    ("525400AB0CDE", "bare, as MAC authentication sends it as User-Name"),
    ("52:54:0:ab:c:de", "unpadded (BSD and macOS arp)"),
    (" 52:54:00:ab:0c:de ", "a CSV cell with spaces"),
])
def test_every_spelling_has_one_normal_form(written: str, who: str) -> None:
    assert normalise_mac(written) == NORMAL, who


@pytest.mark.parametrize("written", ["", "not a mac", "00:00:00:00:00:00", "52:54:00:ab:0c",
                                     "52:54:00:ab:0c:de:01", "52 54 00 ab 0c de", "1234",
                                     "52:54:00:ab:0c:dg"])
def test_what_is_no_mac(written: str) -> None:
    assert normalise_mac(written) is None


def test_registered_in_one_spelling_found_by_radius_in_another(tmp_path: Path) -> None:
    conn = open_directory(tmp_path / "state.sqlite")
    devices.add(conn, mac="5254.00ab.0cde", name="imprimante-cdi", kind="printer",
                owner="cdi", profile="personnel", zone=None, by="tech", now=0.0)
    assert devices.by_mac(conn, "52:54:0:ab:c:de") is not None
    request = Request({"request": [("Calling-Station-Id", '"52-54-00-AB-0C-DE"')]})
    mac = request.mac()
    assert mac == NORMAL
    found = device(conn, mac)
    assert found is not None and found.name == "imprimante-cdi"
