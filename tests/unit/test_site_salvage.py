"""One run reports every problem: a site file with shape errors still gets the checks across
fields on its well-formed rest, located in the file's own numbering, with no echo of the cut."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.errors import Problem, SiteInvalid
from appliance.site import parse_site
from tests.unit.test_site_model import drop, edited, lycee, put, replaced

pytestmark = pytest.mark.unit

# zones: 0 admin (vlan 10), 1 staff (20), 2 pedago (30, 10.30.0.0/22), 3 guest (40), 4 mgmt (99)
OVERLAP = put("zones[3].subnet", "10.30.0.0/21")
OVERLAP_POOL = put("zones[3].dhcp", {"start": "10.30.4.20", "end": "10.30.5.250", "lease": "2h"})


def problems(text: str) -> list[Problem]:
    with pytest.raises(SiteInvalid) as caught:
        parse_site(text)
    return caught.value.problems


def shown(found: list[Problem]) -> str:
    return "\n".join(str(p) for p in found)


def test_a_cross_field_problem_is_reported_beside_a_shape_error() -> None:
    found = problems(edited(put("zones[1].vlan", "twenty"), OVERLAP, OVERLAP_POOL,
                            put("zones[4].vlan", 30)))
    paths = {(p.path, p.message.split(" (")[0]) for p in found}
    assert ("zones[1].vlan", "Input should be a valid integer, unable to parse string as an "
            "integer") in paths, shown(found)
    # Numbered as in the file although zones[1] was set aside to run the checks.
    overlap = [p for p in found if p.path == "zones[3].subnet"]
    assert overlap and "overlaps 10.30.0.0/22 (zones[2].subnet)" in overlap[0].message, shown(found)
    vlan = [p for p in found if p.path == "zones[4].vlan"]
    assert vlan and "already used by zones[2]" in vlan[0].message, shown(found)
    assert all(p.line is not None and p.hint for p in found), shown(found)


def test_a_bad_required_value_does_not_hide_the_other_checks() -> None:
    found = problems(edited(put("school.uai", "069123X"), OVERLAP, OVERLAP_POOL))
    assert [p.path for p in found] == ["school.uai", "zones[3].subnet"], shown(found)


def test_nothing_is_reported_that_only_follows_from_a_part_set_aside() -> None:
    # zones[1] (staff) is malformed: the opening towards it from admin is not "unknown".
    opening = {"to": "staff", "proto": "tcp", "ports": [22], "comment": "ssh to staff"}
    found = problems(edited(put("zones[1].vlan", "twenty"), put("zones[0].allow", [opening])))
    assert [p.path for p in found] == ["zones[1].vlan"], shown(found)
    # The management zone set aside: its access points are not "outside a management zone".
    found = problems(edited(put("zones[4].vlan", "ninety-nine")))
    assert [p.path for p in found] == ["zones[4].vlan"], shown(found)
    # A RADIUS client set aside: the access points are not "no RADIUS client".
    found = problems(edited(put("radius.clients[0].network", "bornes")))
    assert [p.path for p in found] == ["radius.clients[0].network"], shown(found)
    # A required uplink value set aside: no "static uplink needs a gateway" echo.
    found = problems(edited(put("uplink.gateway", "not-an-address")))
    assert [p.path for p in found] == ["uplink.gateway"], shown(found)


def test_a_cross_field_problem_inside_a_list_after_a_cut_item() -> None:
    # Two malformed zones before the one whose pool leaves its subnet.
    found = problems(edited(put("zones[0].vlan", "ten"), put("zones[1].purpose", "teachers"),
                            put("zones[2].dhcp.end", "10.31.0.10")))
    assert {p.path for p in found} == {"zones[0].vlan", "zones[1].purpose",
                                       "zones[2].dhcp.end"}, shown(found)


def test_a_missing_required_section_stops_at_the_shape() -> None:
    found = problems(edited(drop("zones"), drop("dns")))
    assert {p.message for p in found} == {"required key is missing"}, shown(found)


def _leaves(node: Any, path: str = "") -> list[str]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items()
                for leaf in _leaves(value, f"{path}.{key}" if path else str(key))]
    if isinstance(node, list):
        return [leaf for i, value in enumerate(node) for leaf in _leaves(value, f"{path}[{i}]")]
    return [path]


LEAVES = _leaves(lycee())
JUNK = st.one_of(st.text(max_size=12), st.integers(-5, 70000), st.booleans(), st.none(),
                 st.just("10.30.0.0/21"), st.just("10.99.0.0/24"), st.just(30),
                 st.lists(st.integers(0, 5), max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(LEAVES), JUNK), min_size=1, max_size=4))
def test_any_damage_is_reported_located_and_hinted(damage: list[tuple[str, Any]]) -> None:
    text = edited(*(put(path, value) for path, value in damage))
    try:
        parse_site(text)
    except SiteInvalid as bad:
        assert bad.problems
        for problem in bad.problems:
            assert problem.line is not None and problem.hint, str(problem)


def test_a_site_may_still_use_a_few_aliases() -> None:
    text = replaced("  - name: staff", "  - &staff\n    name: staff") + "spare: *staff\n"
    found = problems(text)
    assert [p.message for p in found] == ["unknown key 'spare'"], shown(found)
