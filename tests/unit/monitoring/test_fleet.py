"""``carine fleet targets``: file_sd lists from inventories (one JSON file per group, the shape
Prometheus reads, checked strictly here; promtool reads them in tests/contract), every bad host
reported with nothing written, files replaced atomically and vanished groups removed."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import main
from monitoring.fleet import TARGET_LABELS, UAI, fleet_targets
from monitoring.fleetwrite import MANIFEST
from monitoring.inventory import Host

pytestmark = pytest.mark.unit

INVENTORY = """\
all:
  vars: {carine_academie: lyon}
  children:
    lycees:
      hosts:
        lycee-perrin:
          ansible_host: 10.69.1.2
          carine_uai: 0691234X
          carine_school: Lycée Jean Perrin
          carine_label_bassin: lyon-centre
          carine_label_rne: 12
    colleges:
      vars: {carine_metrics_port: 9200}
      hosts:
        college-a: {ansible_host: "2001:db8::1", carine_uai: 0690001A}
        college-b: {ansible_host: college-b.ac-lyon.fr, carine_uai: 0690002B}
"""
TARGET = re.compile(r"^(\[(?P<v6>[0-9a-fA-F:.]+)\]|(?P<host>[A-Za-z0-9.-]+)):(?P<port>\d+)$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def assert_file_sd(path: Path) -> list[dict[str, Any]]:
    """Exactly what Prometheus's file_sd accepts, and the labels CARINE promises."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, list) and doc, path
    for group in doc:
        assert set(group) == {"targets", "labels"}, group
        assert isinstance(group["targets"], list) and len(group["targets"]) == 1
        for target in group["targets"]:
            match = TARGET.match(target)
            assert match, target
            assert 1 <= int(match.group("port")) <= 65535
            if match.group("v6"):
                assert ipaddress.ip_address(match.group("v6")).version == 6
        labels = group["labels"]
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items())
        assert all(LABEL.match(k) and not k.startswith("__") for k in labels)
        assert set(TARGET_LABELS) <= set(labels)
        assert UAI.match(labels["uai"])
        assert labels["group"] == path.stem
    return list(doc)


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "schools.yml"
    path.write_text(INVENTORY, encoding="utf-8")
    return path


def test_one_file_per_group_with_the_labels(inventory: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sd"
    assert main(["fleet", "targets", str(inventory), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.json")) == ["colleges.json", "lycees.json"]
    [perrin] = assert_file_sd(out / "lycees.json")
    assert perrin == {"targets": ["10.69.1.2:9108"], "labels": {
        "academie": "lyon", "bassin": "lyon-centre", "group": "lycees", "rne": "12",
        "school": "Lycée Jean Perrin", "uai": "0691234X"}}
    colleges = assert_file_sd(out / "colleges.json")
    assert [c["targets"] for c in colleges] == [["[2001:db8::1]:9200"],
                                                ["college-b.ac-lyon.fr:9200"]]
    assert colleges[0]["labels"]["school"] == "college-a"  # no carine_school: the host name
    assert (out / "lycees.json").stat().st_mode & 0o777 == 0o644
    assert "3 school(s) in 2 file(s)" in capsys.readouterr().out


def test_bad_hosts_are_all_reported_and_nothing_is_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inventory = tmp_path / "schools"
    inventory.write_text(
        "[lycees]\n"
        "good ansible_host=10.0.0.1 carine_uai=0691234X\n"
        "bad-uai ansible_host=10.0.0.2 carine_uai=691234X\n"
        "no-uai ansible_host=10.0.0.3\n"
        "bad-address ansible_host=10.0.0.300 carine_uai=0691235Y\n"
        "bad-port ansible_host=10.0.0.5 carine_uai=0691236Z carine_metrics_port=0\n"
        "bad-label ansible_host=10.0.0.6 carine_uai=0691237A carine_label_job=x "
        "carine_label_a-b=1\n"
        "twin ansible_host=10.0.0.1 carine_uai=0691234X\n"
        "[colleges]\n"
        "both ansible_host=10.0.0.8 carine_uai=0691238B\n"
        "[lycees:children]\n"
        "[bassins]\n"
        "both\n"
        "[all:vars]\ncarine_academie=lyon\n", encoding="utf-8")
    out = tmp_path / "sd"
    assert main(["fleet", "targets", str(inventory), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert not out.exists(), "nothing may be written"
    for line in (
        "8 bad host(s)",
        "- bad-uai: carine_uai '691234X' is not a UAI: 7 digits then a capital letter",
        "- no-uai: no carine_uai",
        "- bad-address: ansible_host '10.0.0.300' is neither an IP address nor a host name",
        "- bad-port: carine_metrics_port '0' is not a port (1-65535)",
        "- bad-label: carine_label_a-b: 'a-b' is not a Prometheus label name",
        "- bad-label: carine_label_job: the label 'job' is reserved",
        "- good: carine_uai 0691234X is also the uai of twin",
        "- twin: target 10.0.0.1:9108 is also the address of good",
        "- both: listed in groups colleges, bassins: set carine_group",
        "hint: fix every host listed; nothing was written",
    ):
        assert line in err, line
    assert "Traceback" not in err


def _hosts(**variables: dict[str, Any]) -> list[Host]:
    return [Host(name, ("g",), {"carine_academie": "lyon", **v}) for name, v in variables.items()]


@pytest.mark.parametrize(("variables", "reason"), [
    ({"carine_uai": "0691234x"}, "is not a UAI"),
    ({"carine_uai": 691234}, "'691234' is not a UAI"),
    ({"carine_uai": "0691234X", "carine_academie": None}, "no carine_academie"),
    ({"carine_uai": "0691234X", "ansible_host": "10.0.0.1:22"}, "neither an IP address"),
    ({"carine_uai": "0691234X", "ansible_host": "-bad.example"}, "neither an IP address"),
    ({"carine_uai": "0691234X", "carine_metrics_port": True}, "is not a port"),
    ({"carine_uai": "0691234X", "carine_label___x": "1"}, "'__x' is not a Prometheus label"),
    ({"carine_uai": "0691234X", "carine_label_uai": "1"}, "is reserved"),
    ({"carine_uai": "0691234X", "carine_label_x": ["a"]}, "carine_label_x has no value"),
    ({"carine_uai": "0691234X", "carine_group": "../etc"}, "cannot name a file"),
])
def test_each_reason(variables: dict[str, Any], reason: str) -> None:
    with pytest.raises(Exception, match=reason) as caught:
        fleet_targets(_hosts(host=variables), "inv")
    assert caught.value.exit_code == 2  # type: ignore[attr-defined]


def test_carine_group_chooses_the_file_and_host_name_is_the_address() -> None:
    [target] = fleet_targets([Host("ecole.ac-lyon.fr", ("a", "b"), {
        "carine_uai": "0691234X", "carine_academie": "lyon", "carine_group": "ecoles"})], "inv")
    assert (target.group, target.address) == ("ecoles", "ecole.ac-lyon.fr:9108")
    assert target.labels["group"] == "ecoles"


def test_rewrite_keeps_unchanged_files_and_removes_vanished_groups(
        inventory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sd"
    out.mkdir()
    (out / "someone-else.json").write_text("[]\n")
    assert main(["fleet", "targets", str(inventory), "--out", str(out)]) == 0
    before = (out / "lycees.json").stat().st_mtime_ns
    inventory.write_text(INVENTORY.replace("    colleges:", "    colleges_rhone:"))
    capsys.readouterr()
    assert main(["fleet", "targets", str(inventory), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "lycees.json: 1 target(s), unchanged" in said
    assert "colleges.json: removed" in said
    assert (out / "lycees.json").stat().st_mtime_ns == before
    assert sorted(p.name for p in out.iterdir()) == [
        MANIFEST, "colleges_rhone.json", "lycees.json", "someone-else.json"]
    assert not list(out.glob(".*.tmp"))


def test_a_tampered_manifest_never_removes_other_files(inventory: Path, tmp_path: Path) -> None:
    out = tmp_path / "sd"
    out.mkdir()
    victim = tmp_path / "victim.json"
    victim.write_text("{}")
    (out / "keep.txt").write_text("x")
    (out / MANIFEST).write_text(json.dumps({"files": ["../victim.json", "keep.txt"]}))
    assert main(["fleet", "targets", str(inventory), "--out", str(out)]) == 0
    assert victim.exists() and (out / "keep.txt").exists()


def test_limit_writes_only_those_groups(inventory: Path, tmp_path: Path) -> None:
    out = tmp_path / "sd"
    assert main(["fleet", "targets", str(inventory), "--out", str(out),
                 "--limit", "lycees"]) == 0
    assert [p.name for p in out.glob("*.json")] == ["lycees.json"]
