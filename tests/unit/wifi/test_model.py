"""The Wi-Fi section: no insecure network can be written, every cross-reference is checked, and
a primary school's classroom access point without a schedule gets a warning (D-WIF-3)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from appliance.errors import SiteInvalid
from appliance.site import parse_site
from appliance.site.wifi_checks import wifi_warnings
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.unit

LYCEE = yaml.safe_load((EXAMPLES / "site.yaml").read_text(encoding="utf-8"))
ECOLE = yaml.safe_load((EXAMPLES / "ecole.yaml").read_text(encoding="utf-8"))


def _ap(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in data["wifi"]["access_points"] if a["name"] == name)


def _ssid(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in data["wifi"]["ssids"] if s["name"] == name)


BAD: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("open network", lambda d: _ssid(d, "invites").update(security="open"),
     "wifi.ssids[1].security", "enterprise"),
    ("WEP", lambda d: _ssid(d, "invites").update(security="wep"),
     "wifi.ssids[1].security", "guest-psk"),
    ("WPS knob", lambda d: _ssid(d, "invites").update(wps=True), "wifi.ssids[1].wps",
     "unknown key"),
    ("a passphrase in the site file", lambda d: _ssid(d, "invites").update(passphrase="x" * 24),
     "wifi.ssids[1].passphrase", "unknown key"),
    ("guest SSID without a zone", lambda d: _ssid(d, "invites").pop("zone"),
     "wifi.ssids[1].zone", "needs its zone"),
    ("guest SSID on pupils' zone", lambda d: _ssid(d, "invites").update(zone="pedago"),
     "wifi.ssids[1].zone", "only lead to a guest zone"),
    ("SSID on an unknown zone", lambda d: _ssid(d, "carine").update(zone="nowhere"),
     "wifi.ssids[0].zone", "no zone named"),
    ("SSID too long", lambda d: _ssid(d, "carine").update(ssid="é" * 17),
     "wifi.ssids[0].ssid", "32 bytes"),
    ("two SSIDs with one name", lambda d: _ssid(d, "invites").update(name="carine"),
     "wifi.ssids[1].name", "already used"),
    ("AP outside the management zone", lambda d: _ap(d, "ap-cdi").update(address="10.30.0.9"),
     "wifi.access_points[0].address", "not in a management zone"),
    ("AP on the appliance's address", lambda d: _ap(d, "ap-cdi").update(address="10.99.0.1"),
     "wifi.access_points[0].address", "not a usable address"),
    ("AP not covered by a RADIUS client", lambda d: _ap(d, "ap-cdi").update(address="10.99.0.200"),
     "wifi.access_points[0].address", "no RADIUS client"),
    ("unknown schedule", lambda d: _ap(d, "ap-cdi").update(schedule="nuit"),
     "wifi.access_points[0].schedule", "no schedule named"),
    ("unknown SSID", lambda d: _ap(d, "ap-b104").update(ssids=["carine", "eduroam"]),
     "wifi.access_points[1].ssids[1]", "no SSID named"),
    ("linux AP without its host key", lambda d: _ap(d, "ap-cdi").pop("ssh_host_key"),
     "wifi.access_points[0].ssh_host_key", "pinned SSH host key"),
    ("malformed fingerprint", lambda d: _ap(d, "ap-cdi").update(ssh_host_key="MD5:aa:bb"),
     "wifi.access_points[0].ssh_host_key", "fingerprint"),
    ("inactivity too short", lambda d: _ap(d, "ap-cdi").update(inactivity_off_minutes=1),
     "wifi.access_points[0].inactivity_off_minutes", "greater than or equal"),
    ("empty interval", lambda d: d["wifi"]["schedules"]["cours"].update(mon=["12:00-08:00"]),
     "wifi.schedules.cours.mon[0]", "empty"),
    ("malformed interval", lambda d: d["wifi"]["schedules"]["cours"].update(tue=["8h-12h"]),
     "wifi.schedules.cours.tue[0]", "HH:MM-HH:MM"),
    ("enterprise without RADIUS", lambda d: d["radius"].update(enabled=False, clients=[]),
     "radius.enabled", "need the appliance's RADIUS"),
]


@pytest.mark.parametrize(("case", "change", "path", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_wifi_is_refused_with_its_path(case, change, path, words) -> None:
    data = copy.deepcopy(LYCEE)
    change(data)
    with pytest.raises(SiteInvalid) as caught:
        parse_site(yaml.safe_dump(data, allow_unicode=True))
    found = [p for p in caught.value.problems if p.path == path]
    assert found, f"{case}: no problem at {path}: {caught.value.report()}"
    assert any(words in p.message for p in found), caught.value.report()


def test_examples_parse_with_their_wifi() -> None:
    lycee = parse_site(yaml.safe_dump(LYCEE, allow_unicode=True))
    assert [a.name for a in lycee.wifi.access_points] == ["ap-cdi", "ap-b104"]
    assert lycee.wifi.ssid("invites").zone == "guest"
    assert wifi_warnings(lycee) == []  # a lycée: loi 2015-136 art. 7 covers primary schools


def test_primary_school_classroom_ap_without_schedule_is_warned() -> None:
    data = copy.deepcopy(ECOLE)
    assert wifi_warnings(parse_site(yaml.safe_dump(data, allow_unicode=True))) == []
    _ap(data, "ap-cm2").pop("schedule")
    warnings = wifi_warnings(parse_site(yaml.safe_dump(data, allow_unicode=True)))
    assert [w.path for w in warnings] == ["wifi.access_points[0].schedule"]
    assert "2015-136" in (warnings[0].hint or "")
    _ap(data, "ap-cm2")["classroom"] = False  # a staff room is not a classroom
    assert wifi_warnings(parse_site(yaml.safe_dump(data, allow_unicode=True))) == []
