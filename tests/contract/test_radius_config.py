"""FreeRADIUS itself judges what we render (``freeradius -C``: configuration, modules, our Python
backend imported by its embedded interpreter, certificates): the example and its variants pass,
a broken file fails. Needs freeradius (skipped on a workstation without it, failed in CI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.render import render_tree
from appliance.render.layout import Layout
from appliance.site import Site
from network.radius.service import service
from tests.conftest import lycee_variant, require_tool

pytestmark = pytest.mark.contract

VARIANTS: dict[str, dict[str, object]] = {
    "example": {},
    "peap-off": {"peap_mschapv2": False},
    "ttls-off": {"peap_mschapv2": False, "ttls_pap": False},
    "no-vlans": {"profile_zones": {}},
}


def _site(changes: dict[str, object]) -> Site:
    radius = {"enabled": True, "clients": [{"name": "bornes", "network": "10.99.0.0/25"},
                                           {"name": "switch-cdi", "address": "10.99.0.2",
                                            "kind": "switch"}],
              "profile_zones": {"eleve": "pedago", "enseignant": "staff"}, **changes}
    return lycee_variant(radius=radius)


def _check(site: Site, root: Path) -> tuple[bool, str]:
    render_tree(site, root)
    [result] = service.check(root, Layout.in_tree(root))
    return result.ok, result.output


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_freeradius_accepts_the_rendered_folder(name: str, tmp_path: Path) -> None:
    require_tool("freeradius")
    ok, output = _check(_site(VARIANTS[name]), tmp_path / "tree")
    assert ok, output


def test_a_broken_file_is_refused(tmp_path: Path) -> None:
    require_tool("freeradius")
    root = tmp_path / "tree"
    ok, _ = _check(_site({}), root)
    assert ok
    eap = root / "etc/carine/freeradius/mods-enabled/eap"
    eap.write_text(eap.read_text().replace("${certdir}/server.key", "${certdir}/absent.key"))
    [result] = service.check(root, Layout.in_tree(root))
    assert not result.ok
    assert "absent.key" in result.output


def test_a_missing_backend_module_is_refused(tmp_path: Path) -> None:
    """The check really imports our backend in FreeRADIUS's Python: a wrong module name fails."""
    require_tool("freeradius")
    root = tmp_path / "tree"
    render_tree(_site({}), root)
    mod = root / "etc/carine/freeradius/mods-enabled/carine"
    mod.write_text(mod.read_text().replace("mod_authorize = network.radius.backend",
                                           "mod_authorize = network.radius.nothere"))
    [result] = service.check(root, Layout.in_tree(root))
    assert not result.ok
