"""The render pipeline's own logic: file ownership, the manifest, generations, refusals.

Tiny fake services stand in for the real ones where the test is about the pipeline itself; they
never stand in for a tool's verdict (that is what tests/contract is for)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pytest

from appliance.errors import CarineError
from appliance.render import (
    CheckResult,
    Layout,
    Opening,
    RenderContext,
    Service,
    check_tree,
    load_services,
    render_files,
    render_tree,
)
from appliance.render.pipeline import MANIFEST, read_manifest
from appliance.site import Site
from network import nftables

pytestmark = pytest.mark.unit


@dataclass
class FakeService:
    """A service that renders fixed files under etc/ and records the checks asked of it."""

    name: str
    files: dict[str, str] = field(default_factory=dict)
    opens: Sequence[Opening] = ()
    checked: list[Path] = field(default_factory=list)

    def openings(self, site: Site) -> Sequence[Opening]:
        return self.opens

    def render(self, ctx: RenderContext) -> dict[Path, str]:
        return {ctx.layout.etc(rel): text for rel, text in self.files.items()}

    def check(self, tree: Path, layout: Layout) -> Sequence[CheckResult]:
        self.checked.append(tree)
        return [CheckResult(self.name, "fake", True, "fine")]


def _services(*services: Service) -> list[Service]:
    return list(services)


def test_installed_services_are_found_in_a_stable_order() -> None:
    names = [svc.name for svc in load_services()]
    assert {"appliance", "chrony", "dnsmasq", "nftables", "squid"} <= set(names)
    assert names == sorted(names)
    assert len(names) == len(set(names))


def test_two_services_rendering_the_same_file_is_an_error(lycee_site: Site) -> None:
    one = FakeService("one", {"shared.conf": "a\n"})
    two = FakeService("two", {"shared.conf": "b\n"})
    with pytest.raises(CarineError) as caught:
        render_files(lycee_site, Layout.in_tree(Path("/tmp/carine-unused")), _services(one, two))
    assert "two and one both render etc/shared.conf" in caught.value.message


def test_render_files_is_pure(lycee_site: Site, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    files = render_files(lycee_site, Layout.in_tree(root))
    assert not root.exists()
    assert list(tmp_path.iterdir()) == []
    assert files == render_files(lycee_site, Layout.in_tree(root))  # deterministic


def test_manifest_lists_every_file_with_owner_and_sha256(lycee_site: Site, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    files = render_tree(lycee_site, root)
    manifest = read_manifest(root.absolute())
    entries = manifest["files"]
    assert isinstance(entries, dict)
    on_disk = {PurePosixPath(p.relative_to(root).as_posix())
               for p in root.rglob("*") if p.is_file()}
    assert on_disk == set(files)
    assert set(entries) == {str(p) for p in on_disk - {MANIFEST}}
    owners = {}
    for path, entry in entries.items():
        content = (root / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(content).hexdigest(), path
        owners[path] = entry["service"]
    assert owners["etc/nftables.conf"] == "nftables"
    assert owners["etc/carine/dnsmasq.conf"] == "dnsmasq"
    assert owners["etc/carine/dnsmasq.d/filtering.conf"] == "squid"
    assert owners["etc/chrony/chrony.conf"] == "chrony"
    assert owners["etc/squid/squid.conf"] == "squid"
    assert owners["etc/sysctl.d/90-carine.conf"] == "appliance"
    assert manifest["uai"] == "0691234X"
    assert manifest["layout"] == Layout.in_tree(root).to_json()


def test_render_tree_keeps_the_previous_generation(
    lycee_site: Site, ecole_site: Site, tmp_path: Path
) -> None:
    root = tmp_path / "tree"
    render_tree(ecole_site, root)
    render_tree(lycee_site, root)
    previous = root.with_name("tree.prev")
    assert json.loads((root / MANIFEST).read_text(encoding="utf-8"))["uai"] == "0691234X"
    assert json.loads((previous / MANIFEST).read_text(encoding="utf-8"))["uai"] == "0381234K"
    assert not root.with_name("tree.new").exists()
    # Only one generation is kept: a third render replaces .prev with the second.
    render_tree(ecole_site, root)
    assert json.loads((previous / MANIFEST).read_text(encoding="utf-8"))["uai"] == "0691234X"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree", "tree.prev"]


def test_render_tree_replaces_the_tree_whole(lycee_site: Site, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    render_tree(lycee_site, root)
    (root / "etc/leftover.conf").write_text("hand edit\n", encoding="utf-8")
    render_tree(lycee_site, root)
    assert not (root / "etc/leftover.conf").exists()
    assert (root.with_name("tree.prev") / "etc/leftover.conf").exists()


def test_render_tree_into_an_empty_directory(lycee_site: Site, tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    render_tree(lycee_site, root)
    assert (root / MANIFEST).is_file()


def test_render_tree_refuses_a_foreign_directory(lycee_site: Site, tmp_path: Path) -> None:
    root = tmp_path / "etc"
    root.mkdir()
    (root / "passwd").write_text("root:x:0:0::/root:/bin/sh\n", encoding="utf-8")
    with pytest.raises(CarineError) as caught:
        render_tree(lycee_site, root)
    assert "is not a rendered tree" in caught.value.message
    assert caught.value.hint is not None
    assert sorted(p.name for p in root.iterdir()) == ["passwd"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["etc"]


def test_render_tree_refuses_a_file(lycee_site: Site, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(CarineError, match="is not a directory"):
        render_tree(lycee_site, target)
    assert target.read_text(encoding="utf-8") == "x"


def test_openings_of_every_service_reach_the_ruleset(lycee_site: Site) -> None:
    fake = FakeService("webui", opens=[Opening("webui", "tcp", (8443,), ("admin", "mgmt"),
                                               "console")])
    files = render_files(lycee_site, Layout.system(), _services(fake, nftables.service))
    ruleset = files[PurePosixPath("etc/nftables.conf")]
    assert ('iifname { "eth1.10", "eth1.99" } tcp dport 8443 accept comment "webui: console"'
            in ruleset)


def test_check_tree_asks_only_services_that_rendered_files(
    lycee_site: Site, tmp_path: Path
) -> None:
    root = tmp_path / "tree"
    present = FakeService("present", {"present.conf": "x\n"})
    absent = FakeService("absent")
    render_tree(lycee_site, root, services=_services(present, absent))
    results = check_tree(root, services=_services(present, absent))
    assert [r.service for r in results] == ["present"]
    assert present.checked == [root.absolute()]
    assert absent.checked == []


def test_check_tree_refuses_a_tree_rendered_for_the_system(
    lycee_site: Site, tmp_path: Path
) -> None:
    root = tmp_path / "sys"
    render_tree(lycee_site, root, Layout.system())
    nft = (root / "etc/nftables.conf").read_text(encoding="utf-8")
    assert "/tmp" not in nft
    assert "pid-file=/run/carine/dnsmasq.pid" in (root / "etc/carine/dnsmasq.conf").read_text(
        encoding="utf-8")
    with pytest.raises(CarineError) as caught:
        check_tree(root)
    assert "rendered for installation under /" in caught.value.message
    assert caught.value.hint is not None
    assert "--site SITE" in caught.value.hint


def test_check_tree_refuses_what_is_not_a_tree(tmp_path: Path) -> None:
    with pytest.raises(CarineError) as caught:
        check_tree(tmp_path)
    assert "is not a rendered tree" in caught.value.message


def test_check_tree_reports_a_corrupt_manifest(lycee_site: Site, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    render_tree(lycee_site, root)
    (root / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(CarineError, match="cannot read"):
        check_tree(root)


def test_layout_in_tree_and_system(tmp_path: Path) -> None:
    tree = Layout.in_tree(tmp_path)
    assert tree.etc("squid/squid.conf") == tmp_path / "etc/squid/squid.conf"
    assert tree.state == tmp_path / "var/lib/carine"
    assert tree.tree_path(tree.etc("nftables.conf")) == PurePosixPath("etc/nftables.conf")
    assert Layout.from_json(tree.to_json()) == tree
    system = Layout.system()
    assert system.etc("nftables.conf") == Path("/etc/nftables.conf")
    assert system.tree_path(system.etc("nftables.conf")) == PurePosixPath("etc/nftables.conf")
