"""Ansible inventories of schools, YAML or INI, read without Ansible (ansible-core is not a
dependency): each host with the groups that list it and its variables merged as Ansible does."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from monitoring.inventory_tree import InventoryInvalid, Tree, Vars
from monitoring.inventory_vars import read_vars_beside
from monitoring.inventory_yaml import parse_yaml

SECTION = re.compile(r"^\[([^\]:\s]+)(?::([a-z]+))?\]$")


@dataclass(frozen=True)
class Host:
    """One host: the groups that list it (inventory order) and its merged variables."""

    name: str
    groups: tuple[str, ...]
    vars: Vars
    member_of: frozenset[str] = frozenset()
    """Every group it belongs to, through children too (for --limit)."""


def load_inventory(path: Path) -> list[Host]:
    """The hosts of an inventory file (``.yml``/``.yaml``/``.json``: YAML; else INI), with
    ``group_vars/`` and ``host_vars/`` beside it, as Ansible reads them."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryInvalid(f"cannot read {path}: {exc}") from None
    if path.suffix in {".yml", ".yaml", ".json"}:
        tree = parse_yaml(text, str(path))
    else:
        tree = parse_ini(text, str(path))
    tree.group("all")
    for name, found in read_vars_beside(path.parent, "group_vars", list(tree.groups)).items():
        tree.groups[name].vars.update(found)  # these files override the inventory's own vars
    hosts = merged_hosts(tree)
    beside = read_vars_beside(path.parent, "host_vars", [h.name for h in hosts])
    return [Host(h.name, h.groups, {**h.vars, **beside.get(h.name, {})}, h.member_of)
            for h in hosts]


def within(hosts: list[Host], groups: list[str]) -> list[Host]:
    """The hosts that belong to one of ``groups`` (all of them if none is given)."""
    if not groups:
        return hosts
    known = set().union(*(h.member_of for h in hosts)) if hosts else set()
    unknown = [g for g in groups if g not in known]
    if unknown:
        raise InventoryInvalid(f"no host in group(s) {', '.join(unknown)}",
                               f"groups with hosts: {', '.join(sorted(known)) or 'none'}")
    return [h for h in hosts if h.member_of & set(groups)]


def parse_ini(text: str, source: str) -> Tree:
    """``[group]`` host lines with ``key=value`` pairs, ``[group:vars]``, ``[group:children]``."""
    tree = Tree()
    name, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        where = f"{source}, line {number}"
        if line.startswith("["):
            header = SECTION.match(line)
            if header is None or (header.group(2) or "hosts") not in {"hosts", "vars", "children"}:
                raise InventoryInvalid(f"{where}: {line!r} is not a section header",
                                       "[group], [group:vars] or [group:children]")
            name, kind = header.group(1), header.group(2) or "hosts"
            tree.group(name)
        elif kind == "children":
            tree.group(name).children.append(line.split()[0])
            tree.group(line.split()[0])
        elif kind == "vars":
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise InventoryInvalid(f"{where}: {line!r} is not key=value")
            tree.group(name).vars[key.strip()] = _unquote(value.strip())
        else:
            host, variables = _host_line(line, where)
            tree.group(name).hosts.setdefault(host, []).append(variables)
    return tree


def _host_line(line: str, where: str) -> tuple[str, Vars]:
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:  # an unclosed quote
        raise InventoryInvalid(f"{where}: {exc}", "check the quotes of this host line") from None
    variables: Vars = {}
    for token in tokens[1:]:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise InventoryInvalid(f"{where}: {token!r} is not key=value",
                                   "host lines are: name key=value key='a value with spaces'")
        variables[key] = value
    return tokens[0], variables


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def merged_hosts(tree: Tree) -> list[Host]:
    """Every host with its variables: group vars from the shallowest group to the deepest (then
    by name, as Ansible), then the host's own (later places win)."""
    parents: dict[str, set[str]] = {}
    for group in tree.groups.values():
        for child in group.children:
            parents.setdefault(child, set()).add(group.name)
    depth = {name: _depth(name, parents, set()) for name in tree.groups}
    places: dict[str, list[str]] = {}
    for group in tree.groups.values():
        for host in group.hosts:
            places.setdefault(host, []).append(group.name)
    hosts = []
    for host, listed in places.items():
        ancestors = {name: _above(name, parents) for name in listed}
        # Listed in a group and in one of its subgroups too: the subgroup is the precise one.
        direct = [g for g in listed if not any(g in ancestors[o] for o in listed if o != g)]
        # As in Ansible, a host is "ungrouped" only when no other group lists it.
        direct = [g for g in direct if g not in ("all", "ungrouped")] or direct
        above = set().union(*ancestors.values()) | set(listed) | {"all"}
        merged: Vars = {}
        for name in sorted(above, key=lambda n: (depth[n], n)):
            merged.update(tree.groups[name].vars)
        for name in listed:
            for own in tree.groups[name].hosts[host]:
                merged.update(own)
        shown = tuple("ungrouped" if name == "all" else name for name in direct)
        member_of = above | {"ungrouped"} if "all" in direct else above
        hosts.append(Host(host, shown, merged, frozenset(member_of)))
    return hosts


def _above(name: str, parents: dict[str, set[str]]) -> set[str]:
    """Every group ``name`` is a child of, however deep."""
    found: set[str] = set()
    todo = [name]
    while todo:
        for parent in parents.get(todo.pop(), ()):
            if parent not in found:
                found.add(parent)
                todo.append(parent)
    return found


def _depth(name: str, parents: dict[str, set[str]], seen: set[str]) -> int:
    """Longest path from ``all``; a cycle of children counts once (Ansible refuses them)."""
    if name == "all" or name in seen:
        return 0
    above = [_depth(p, parents, seen | {name}) for p in parents.get(name, ())]
    return 1 + max(above, default=0)
