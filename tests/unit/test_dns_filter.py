"""DNS-level filtering: which views a site gets, what they rewrite and refuse (pure logic)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from appliance.site import load_site, parse_site
from filtering.dns import TARGETS, views
from filtering.dnsstate import (
    ALWAYS_REFUSED,
    count_refusals,
    write_refused_names,
    write_safesearch_hosts,
)

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_lycee_gets_a_pupil_view_and_a_staff_view() -> None:
    found = {v.name: v for v in views(load_site(EXAMPLES / "site.yaml"))}
    assert set(found) == {"block-safe", "safe"}
    pupils, staff = found["block-safe"], found["safe"]
    assert pupils.zones == ("pedago", "guest") and pupils.block and pupils.youtube == "strict"
    assert staff.zones == ("admin", "staff") and not staff.block
    assert staff.youtube == "moderate"
    assert pupils.port != staff.port
    rewrites = dict(pupils.rewrites())
    assert rewrites["www.google.fr"] == "forcesafesearch.google.com"
    assert rewrites["www.youtube.com"] == "restrict.youtube.com"
    assert dict(staff.rewrites())["www.youtube.com"] == "restrictmoderate.youtube.com"


def test_a_staff_zone_without_safesearch_needs_no_view() -> None:
    data = yaml.safe_load((EXAMPLES / "site.yaml").read_text(encoding="utf-8"))
    data["filtering"]["profiles"] = {
        "eleve": {"audience": "pupil"}, "invite": {"audience": "guest"},
        "enseignant": {"audience": "staff", "safesearch": False},
        "personnel": {"audience": "staff", "safesearch": False},
    }
    site = parse_site(yaml.safe_dump(data, allow_unicode=True))
    assert [v.name for v in views(site)] == ["block-safe"]


def test_safesearch_hosts_keep_old_addresses_when_resolution_fails(tmp_path: Path) -> None:
    path = tmp_path / "safesearch.hosts"
    assert write_safesearch_hosts(path, lambda name: ["192.0.2.1"]) == len(set(TARGETS.values()))
    assert "192.0.2.1 forcesafesearch.google.com" in path.read_text()

    def down(name: str) -> list[str]:
        raise OSError("no upstream")

    assert write_safesearch_hosts(path, down) == 0
    assert "192.0.2.1 forcesafesearch.google.com" in path.read_text()  # never fails open


def test_refused_names_include_the_canary_and_drop_unsafe_lines(tmp_path: Path) -> None:
    path = tmp_path / "refused.servers"
    count = write_refused_names(path, ["vpn.example", "bad name", "x/y", "doh.example"])
    text = path.read_text()
    assert "server=/vpn.example/\n" in text and "server=/doh.example/\n" in text
    assert "server=/use-application-dns.net/\n" in text
    assert "bad name" not in text and "x/y" not in text
    assert count == len(ALWAYS_REFUSED) + 2


def test_refusals_are_counted_from_the_view_log() -> None:
    log = ("Nov 23 04:04:37 dnsmasq[5235]: query[A] dns.google from 10.30.0.161\n"
           "Nov 23 04:04:37 dnsmasq[5235]: config dns.google is NXDOMAIN\n"
           "Nov 23 04:04:38 dnsmasq[5235]: config dns.google is NXDOMAIN\n"
           "Nov 23 04:04:39 dnsmasq[5235]: config vpn.example is NXDOMAIN\n"
           "Nov 23 04:04:39 dnsmasq[5235]: reply www.example.org is 198.18.1.1\n")
    assert count_refusals(log) == {"dns.google": 2, "vpn.example": 1}
