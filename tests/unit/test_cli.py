"""The ``carine`` command as a technician meets it: exit codes and messages, never a traceback.

Runs ``appliance.cli.main`` in-process; nothing here calls the real tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from appliance.render.pipeline import MANIFEST
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.unit

BAD_SITE = (EXAMPLES / "site.yaml").read_text(encoding="utf-8").replace(
    "    vlan: 20\n", "    vlan: 10\n", 1).replace(
    "  uai: 0691234X", "  uai: 691234X", 1)


@pytest.fixture
def bad_site(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_SITE, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", ["site.yaml", "ecole.yaml"])
def test_validate_good_site(
    name: str, examples_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(examples_dir / name)]) == 0
    out, err = capsys.readouterr()
    assert "valid" in out
    assert err == ""


def test_validate_bad_site_lists_every_problem(
    bad_site: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(bad_site)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert f"{bad_site}: " in err
    assert "school.uai (line 8)" in err
    # The UAI is a structural problem, so the semantic VLAN clash is not checked in this run;
    # fixing the UAI must then reveal it.
    assert "nothing was rendered" in err
    bad_site.write_text(BAD_SITE.replace("  uai: 691234X", "  uai: 0691234X"), encoding="utf-8")
    assert main(["validate", str(bad_site)]) == 2
    _, err = capsys.readouterr()
    assert "zones[1].vlan (line 44): VLAN 10 is already used by zones[0]" in err
    assert "hint: each zone needs its own VLAN id" in err


def test_validate_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.yaml"
    assert main(["validate", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert f"carine: cannot read site file {missing}: No such file or directory" in err
    assert "hint: give the path of a site.yaml" in err


def test_validate_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path)]) == 1
    _, err = capsys.readouterr()
    assert "cannot read site file" in err
    assert "Traceback" not in err


def test_render_bad_site_creates_nothing(
    bad_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "out"
    assert main(["render", str(bad_site), "--root", str(root)]) == 2
    _, err = capsys.readouterr()
    assert "school.uai" in err
    assert "Traceback" not in err
    assert not root.exists()
    assert not root.with_name("out.new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_render_good_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "out"
    assert main(["render", str(EXAMPLES / "site.yaml"), "--root", str(root)]) == 0
    out, _ = capsys.readouterr()
    assert (root / MANIFEST).is_file()
    assert (root / "etc/nftables.conf").is_file()
    assert f"into {root}" in out
    assert "etc/squid/squid.conf" in out


def test_render_into_a_foreign_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "home"
    root.mkdir()
    (root / "thesis.odt").write_text("precious", encoding="utf-8")
    assert main(["render", str(EXAMPLES / "site.yaml"), "--root", str(root)]) == 1
    _, err = capsys.readouterr()
    assert "is not a rendered tree" in err
    assert "Traceback" not in err
    assert (root / "thesis.odt").read_text(encoding="utf-8") == "precious"


def test_render_onto_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "a-file"
    target.write_text("x", encoding="utf-8")
    assert main(["render", str(EXAMPLES / "site.yaml"), "--root", str(target)]) == 1
    _, err = capsys.readouterr()
    assert "is not a directory" in err
    assert "Traceback" not in err


def test_check_a_system_tree_points_to_the_right_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "sys"
    assert main(["render", str(EXAMPLES / "site.yaml"), "--root", str(root), "--for-system"]) == 0
    capsys.readouterr()
    assert main(["check", "--root", str(root)]) == 1
    _, err = capsys.readouterr()
    assert "was rendered for installation under /" in err
    assert "carine check --root DIR --site SITE" in err


def test_check_something_that_is_not_a_tree(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--root", str(tmp_path)]) == 1
    _, err = capsys.readouterr()
    assert "is not a rendered tree" in err
    assert "hint: render one first" in err


def test_reference_prints_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reference"]) == 0
    out, _ = capsys.readouterr()
    assert "| `uai` |" in out
    assert "#### `zones[].dhcp`" in out


@pytest.mark.parametrize("content", [b"\xff\xfe\x00garbage" * 50, b"zones: " + b"[" * 3000],
                         ids=["binary", "nested-too-deep"])
def test_validate_nasty_bytes_is_a_bad_site(
    content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nasty.yaml"
    path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert "(line 1)" in err and "hint:" in err


def _tree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    root = tmp_path / "tree"
    assert main(["render", str(EXAMPLES / "ecole.yaml"), "--root", str(root)]) == 0
    capsys.readouterr()
    return root


def test_check_a_tree_missing_a_file_fails_that_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _tree(tmp_path, capsys)
    (root / "etc/squid/squid.conf").unlink()
    # No real tool here: the missing file is found before any tool runs.
    monkeypatch.setattr("appliance.render.check.load_services", lambda: [_Silent("squid")])
    assert main(["check", "--root", str(root)]) == 1
    out, _ = capsys.readouterr()
    assert "FAIL squid      files listed in etc/carine/rendered.json" in out
    assert "missing: etc/squid/squid.conf" in out


@pytest.mark.parametrize("manifest", ["{bad", "[1]", "{}", '{"layout": {}, "files": {}}'])
def test_check_a_tree_with_a_broken_manifest(
    manifest: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(tmp_path, capsys)
    (root / MANIFEST).write_text(manifest, encoding="utf-8")
    assert main(["check", "--root", str(root)]) == 1
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert str(root / MANIFEST) in err
    assert "hint: render the tree again" in err


class _Silent:
    """A service whose tool is never reached (its file is missing)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def check(self, tree: Path, layout: object) -> list[object]:
        raise AssertionError("no tool may run on a partial set of files")
