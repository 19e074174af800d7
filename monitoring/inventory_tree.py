"""What an inventory file says before any merging: groups with their variables, child groups
and hosts (each place a host is listed keeps its own variables, as Ansible merges them later)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.errors import CarineError

Vars = dict[str, Any]


class InventoryInvalid(CarineError):
    """An inventory that cannot be read: nothing is written from it."""

    exit_code = 2


@dataclass
class Group:
    name: str
    vars: Vars = field(default_factory=dict)
    children: list[str] = field(default_factory=list)
    hosts: dict[str, list[Vars]] = field(default_factory=dict)


@dataclass
class Tree:
    groups: dict[str, Group] = field(default_factory=dict)

    def group(self, name: str) -> Group:
        return self.groups.setdefault(name, Group(name))


def as_vars(value: Any, what: str) -> Vars:
    """A mapping of variables (None is empty), or an error naming ``what``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InventoryInvalid(f"{what} must be a mapping, not {type(value).__name__}",
                               "variables are written `name: value`, one per line")
    return {str(k): v for k, v in value.items()}
