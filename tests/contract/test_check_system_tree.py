"""`carine check` judges the tree that will be installed: a `--for-system` tree is checked
through its twin (the same site rendered in a temporary tree) once it is shown to be exactly
what the site renders for the system; any other tree is refused before a tool runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from appliance.errors import CarineError
from appliance.render import Layout, check_tree, render_tree
from appliance.site import load_site
from tests.conftest import EXAMPLES, require_root, require_tool

pytestmark = pytest.mark.contract
SITE = EXAMPLES / "site.yaml"


def _need_tools() -> None:
    require_root()
    for tool in ("nft", "dnsmasq", "squid", "chronyd", "freeradius"):
        require_tool(tool)


def test_a_system_tree_is_checked_through_its_twin(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _need_tools()
    root = tmp_path / "sys"
    assert main(["render", str(SITE), "--root", str(root), "--for-system"]) == 0
    capsys.readouterr()
    assert main(["check", "--root", str(root), "--site", str(SITE)]) == 0
    out = capsys.readouterr().out
    assert f"ok   tree       {root} is what the site renders for /" in out
    # The tools ran on the twin, and say so in the system's paths.
    for line in ("squid -k parse -f /etc/squid/squid.conf", "nft -c -f /etc/nftables.conf",
                 "freeradius -C -d /etc/carine/freeradius", "dnsmasq --test"):
        assert line in out, out
    assert "carine-twin-" not in out and str(tmp_path) not in out.split("\n", 1)[1]
    assert " 0 failed" in out


def test_a_changed_or_foreign_system_tree_is_refused_before_any_tool(tmp_path: Path) -> None:
    site = load_site(SITE)
    root = tmp_path / "sys"
    render_tree(site, root, Layout.system())
    conf = root / "etc/squid/squid.conf"
    conf.write_text(conf.read_text(encoding="utf-8") + "http_access allow all\n",
                    encoding="utf-8")
    (root / "etc/carine/extra.conf").write_text("x\n", encoding="utf-8")
    with pytest.raises(CarineError) as caught:
        check_tree(root, site=site)
    assert "2 file(s) differ" in caught.value.message
    assert "etc/squid/squid.conf" in caught.value.message
    assert "etc/carine/extra.conf (not rendered)" in caught.value.message
    other = load_site(EXAMPLES / "ecole.yaml")
    render_tree(site, root, Layout.system())
    with pytest.raises(CarineError, match="is not what the site renders"):
        check_tree(root, site=other)
