"""The radius section: clients in a management zone, profiles and zones of the VLAN map."""

from __future__ import annotations

import pytest

from appliance.errors import SiteInvalid
from tests.conftest import lycee_variant

pytestmark = pytest.mark.unit


def _problems(**radius: object) -> str:
    with pytest.raises(SiteInvalid) as caught:
        lycee_variant(radius={"enabled": True, **radius})
    return caught.value.report()


def test_the_example_maps_each_profile_to_its_zone_vlan(lycee_site) -> None:
    radius = lycee_site.radius
    assert radius.enabled and radius.peap_mschapv2 and radius.ttls_pap
    assert {p: lycee_site.zone(z).vlan for p, z in radius.profile_zones.items()} == \
        {"eleve": 30, "enseignant": 20, "personnel": 10, "invite": 40}


def test_a_client_outside_the_management_zone_is_refused() -> None:
    report = _problems(clients=[{"name": "ap1", "address": "10.30.0.5"}])
    assert "radius.clients[0].address" in report and "not inside a management zone" in report


def test_a_client_needs_exactly_one_of_address_and_network() -> None:
    report = _problems(clients=[{"name": "ap1", "address": "10.99.0.5",
                                 "network": "10.99.0.0/28"}])
    assert "either address" in report


def test_duplicate_and_reserved_client_names_are_refused() -> None:
    report = _problems(clients=[{"name": "ap1", "address": "10.99.0.5"},
                                {"name": "ap1", "address": "10.99.0.6"},
                                {"name": "local", "address": "10.99.0.7"}])
    assert "already used" in report and "reserved" in report


def test_unknown_profiles_and_zones_are_refused() -> None:
    report = _problems(clients=[{"name": "ap1", "address": "10.99.0.5"}],
                       profile_zones={"pirate": "pedago", "eleve": "nulle-part"})
    assert "no filtering profile 'pirate'" in report and "no zone named 'nulle-part'" in report


def test_users_never_land_in_the_management_zone() -> None:
    report = _problems(clients=[{"name": "ap1", "address": "10.99.0.5"}],
                       profile_zones={"eleve": "mgmt"})
    assert "management zone" in report


def test_enabled_without_clients_is_refused() -> None:
    assert "has no client" in _problems()
