"""The lab's namespaces, links, addresses and routes go through netlink (pyroute2, issue 12
point 10): no module runs `ip link|addr|route|netns add...` any more; `ip netns exec`, which
runs a program inside a namespace, is the one use of `ip` left."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PLACES = ("appliance", "network", "filtering", "monitoring", "webui")
# What `ip` acts on (and its options before one): a tuple ("ip", "login", ...) is no command.
OBJECTS = {"link", "addr", "address", "route", "neigh", "neighbour", "netns", "rule", "-br",
           "-4", "-6", "-j", "-n"}


def ip_calls() -> list[str]:
    """``file:line argv`` of every list or tuple literal that starts an `ip` command other
    than ``ip netns exec``."""
    found = []
    for place in PLACES:
        for path in (REPO / place).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, (ast.List, ast.Tuple)) or len(node.elts) < 2:
                    continue
                words = [e.value if isinstance(e, ast.Constant) else None for e in node.elts]
                if words[0] == "ip" and words[1] in OBJECTS and words[1:3] != ["netns", "exec"]:
                    found.append(f"{path.relative_to(REPO)}:{node.lineno} {words}")
    return found


def test_no_ip_command_but_netns_exec() -> None:
    assert ip_calls() == []
