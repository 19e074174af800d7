"""YAML inventories (``all: children: <group>: hosts: <host>: {vars}``) and YAML variable
files, read strictly: a key given twice or a misspelt ``hosts:`` would silently drop a school."""

from __future__ import annotations

from typing import Any

import yaml

from monitoring.inventory_tree import InventoryInvalid, Tree, Vars, as_vars

GROUP_KEYS = ("hosts", "children", "vars")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (PyYAML keeps the last one)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_yaml(text: str, source: str) -> Any:
    """The document in ``text``; an error names ``source`` and the line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        what = getattr(exc, "problem", None) or str(exc)
        raise InventoryInvalid(f"{source}{line}: invalid YAML: {what}",
                               "check indentation and quoting") from None


def parse_yaml(text: str, source: str) -> Tree:
    """Groups at the top level (usually only ``all``), each with hosts, children and vars."""
    doc = load_yaml(text, source)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InventoryInvalid(f"{source}: an inventory is a mapping of groups",
                               "start with `all:` then `children:` or `hosts:`")
    tree = Tree()
    for name, body in doc.items():
        _group(tree, str(name), body, source, set())
    return tree


def _group(tree: Tree, name: str, body: Any, source: str, above: set[str]) -> None:
    group = tree.group(name)
    where = f"{source}: group {name}"
    if name in above:
        raise InventoryInvalid(f"{where} is inside itself", "a group cannot be its own child")
    if body is None:
        return
    if not isinstance(body, dict):
        raise InventoryInvalid(f"{where} must be a mapping with hosts, children or vars")
    for key in body:
        if key not in GROUP_KEYS:
            raise InventoryInvalid(f"{where}: unknown key {key!r}",
                                   f"a group holds only {', '.join(GROUP_KEYS)}")
    group.vars.update(as_vars(body.get("vars"), f"{where}: vars"))
    for host, variables in as_vars(body.get("hosts"), f"{where}: hosts").items():
        group.hosts.setdefault(host, []).append(as_vars(variables, f"{where}: host {host}"))
    for child, child_body in as_vars(body.get("children"), f"{where}: children").items():
        if child not in group.children:
            group.children.append(child)
        _group(tree, child, child_body, source, above | {name})


def load_vars_file(text: str, source: str) -> Vars:
    """A ``group_vars``/``host_vars`` file: one mapping of variables."""
    return as_vars(load_yaml(text, source), source)
