"""Ansible inventories read without Ansible: YAML and INI, nested groups, variables merged in
Ansible's order (all < parent < child < host < host_vars), and what is refused rather than
guessed (a key given twice, a misspelt `hosts:`, a bad INI line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitoring.inventory import load_inventory, within
from monitoring.inventory_tree import InventoryInvalid

pytestmark = pytest.mark.unit

YAML = """\
all:
  vars:
    carine_academie: lyon
    carine_metrics_port: 9108
  children:
    lycees:
      vars: {carine_metrics_port: 9200}
      hosts:
        lycee-perrin:
          ansible_host: 10.69.1.2
          carine_uai: 0691234X
          carine_school: Lycée Jean Perrin
    colleges:
      vars: {carine_label_bassin: nord}
      children:
        colleges_rhone:
          vars: {carine_label_bassin: rhone}
          hosts:
            college-a: {ansible_host: 10.69.2.2, carine_uai: 0690001A}
            college-b:
  hosts:
    lone-host: {carine_uai: 0690002B}
"""

INI = """\
# the académie's schools
lone-host carine_uai=0690002B

[lycees]
lycee-perrin ansible_host=10.69.1.2 carine_uai=0691234X carine_school="Lycée Jean Perrin"

[lycees:vars]
carine_metrics_port=9200

[colleges_rhone]
college-a ansible_host=10.69.2.2 carine_uai=0690001A   # a comment after the vars
college-b

[colleges:children]
colleges_rhone

[colleges:vars]
carine_label_bassin = 'nord ouest'

[all:vars]
carine_academie=lyon
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("name", "text"), [("hosts.yml", YAML), ("hosts", INI)])
def test_both_forms_give_hosts_groups_and_merged_vars(tmp_path: Path, name: str,
                                                      text: str) -> None:
    hosts = {h.name: h for h in load_inventory(_write(tmp_path, name, text))}
    assert set(hosts) == {"lycee-perrin", "college-a", "college-b", "lone-host"}
    perrin = hosts["lycee-perrin"]
    assert perrin.groups == ("lycees",)
    assert perrin.vars["carine_school"] == "Lycée Jean Perrin"
    assert str(perrin.vars["carine_metrics_port"]) == "9200"  # the group beats all
    assert perrin.vars["carine_academie"] == "lyon"
    college = hosts["college-a"]
    assert college.groups == ("colleges_rhone",)
    assert {"colleges", "colleges_rhone", "all"} <= college.member_of
    assert hosts["college-b"].vars.get("carine_uai") is None
    assert hosts["lone-host"].groups == ("ungrouped",)


def test_child_group_vars_beat_parent_vars(tmp_path: Path) -> None:
    hosts = {h.name: h for h in load_inventory(_write(tmp_path, "hosts.yml", YAML))}
    assert hosts["college-a"].vars["carine_label_bassin"] == "rhone"


def test_ini_strips_quotes_and_comments(tmp_path: Path) -> None:
    hosts = {h.name: h for h in load_inventory(_write(tmp_path, "hosts.ini", INI))}
    assert hosts["college-a"].vars["carine_label_bassin"] == "nord ouest"
    assert hosts["college-a"].vars["carine_uai"] == "0690001A"


def test_group_vars_and_host_vars_beside_the_inventory(tmp_path: Path) -> None:
    inventory = _write(tmp_path, "hosts.yml", YAML)
    (tmp_path / "group_vars" / "colleges").mkdir(parents=True)
    (tmp_path / "group_vars" / "all.yml").write_text("carine_academie: grenoble\n")
    (tmp_path / "group_vars" / "colleges" / "a.yml").write_text("carine_label_x: '1'\n")
    (tmp_path / "group_vars" / "colleges" / "b.yml").write_text("carine_label_x: '2'\n")
    (tmp_path / "group_vars" / "lycees.yml").write_text("$ANSIBLE_VAULT;1.1;AES256\n3132\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "college-b.yaml").write_text("carine_uai: 0690003C\n")
    hosts = {h.name: h for h in load_inventory(inventory)}
    assert hosts["lycee-perrin"].vars["carine_academie"] == "grenoble"
    assert hosts["college-a"].vars["carine_label_x"] == "2"  # files of a folder in name order
    assert hosts["college-b"].vars["carine_uai"] == "0690003C"


def test_host_in_a_group_and_its_subgroup_belongs_to_the_subgroup(tmp_path: Path) -> None:
    text = "[colleges]\ncollege-a\n[colleges_rhone]\ncollege-a\n[colleges:children]\n" \
           "colleges_rhone\n[bassin_nord]\ncollege-b\n[lycees]\ncollege-b\n"
    hosts = {h.name: h for h in load_inventory(_write(tmp_path, "hosts", text))}
    assert hosts["college-a"].groups == ("colleges_rhone",)
    assert hosts["college-b"].groups == ("bassin_nord", "lycees")  # fleet asks to choose


def test_limit_to_groups(tmp_path: Path) -> None:
    hosts = load_inventory(_write(tmp_path, "hosts.yml", YAML))
    assert {h.name for h in within(hosts, ["colleges"])} == {"college-a", "college-b"}
    assert {h.name for h in within(hosts, ["lycees", "ungrouped"])} == {"lycee-perrin",
                                                                      "lone-host"}
    assert within(hosts, []) == hosts
    with pytest.raises(InventoryInvalid, match=r"no host in group.*lycee$"):
        within(hosts, ["lycee"])


@pytest.mark.parametrize(("name", "text", "message"), [
    ("a.yml", "all:\n  children:\n    lycees:\n      host:\n        a: {}\n",
     "group lycees: unknown key 'host'"),
    ("a.yml", "all:\n  hosts:\n    a: {carine_uai: 0691234X}\n    a: {}\n",
     "line 4: invalid YAML: key 'a' is given twice"),
    ("a.yml", "all:\n  hosts: [a, b]\n", "hosts must be a mapping, not list"),
    ("a.yml", "all:\n  hosts:\n    a: 0691234X\n", "host a must be a mapping, not str"),
    ("a.yml", "- all\n", "an inventory is a mapping of groups"),
    ("a.yml", "all:\n  hosts:\n    a: {b: [}\n", "line 3: invalid YAML"),
    ("a.yml", "all:\n  children:\n    all:\n", "group all is inside itself"),
    ("a", "[lycees\na\n", r"line 1: '\[lycees' is not a section header"),
    ("a", "[lycees:hostz]\n", "is not a section header"),
    ("a", "[lycees]\na carine_uai\n", "line 2: 'carine_uai' is not key=value"),
    ("a", "[lycees]\na carine_school='Jean Perrin\n", "line 2: No closing quotation"),
    ("a", "[all:vars]\ncarine_academie\n", "line 2: 'carine_academie' is not key=value"),
])
def test_unreadable_inventories_are_refused(tmp_path: Path, name: str, text: str,
                                            message: str) -> None:
    with pytest.raises(InventoryInvalid, match=message) as caught:
        load_inventory(_write(tmp_path, name, text))
    assert caught.value.exit_code == 2


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InventoryInvalid, match="cannot read"):
        load_inventory(tmp_path / "nowhere.yml")


def test_empty_inventories_have_no_hosts(tmp_path: Path) -> None:
    assert load_inventory(_write(tmp_path, "a.yml", "")) == []
    assert load_inventory(_write(tmp_path, "a", "# nothing yet\n")) == []
