"""Structural debts that must not come back (issue 12 point 9): import circles (function-level
and TYPE_CHECKING imports counted, since they only hide a circle), package docstrings that say
"later" about what is built, and references to documents the repository does not have."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from appliance.run import run

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("appliance", "network", "filtering", "monitoring", "webui")
# Once in circles: each must import first, alone, in a fresh interpreter.
ONCE_CIRCULAR = ("appliance.lab.commands", "appliance.lab.daemons", "appliance.lab.wifi",
                 "filtering.answercache", "filtering.decide", "filtering.fastpath",
                 "network.radius.certs", "network.radius.issued")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module to the project's modules it imports, anywhere in its body."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[:len(parts) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in modules:
                        out.add(full)
                    elif base in modules:
                        out.add(base)
        out.discard(name)
        graph[name] = out
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_the_detector_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circles() -> None:
    found = circles(import_graph(_modules()))
    assert found == [], "import circles (move the shared names to a small module): " + \
        "; ".join(" <-> ".join(group) for group in found)


@pytest.mark.parametrize("module", ONCE_CIRCULAR)
def test_once_circular_modules_import_first(module: str) -> None:
    done = run([sys.executable, "-c", f"import {module}"], check=False, cwd=REPO, timeout=60)
    assert done.ok, done.output()


def test_package_docstrings_describe_what_is_built() -> None:
    for name, path in _modules().items():
        if path.name != "__init__.py":
            continue
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert not re.search(r"\blater\b", doc, re.IGNORECASE), \
            f"{name}'s docstring promises for later: {doc!r}"


def test_documents_named_in_the_code_exist() -> None:
    for path in _modules().values():
        for doc in re.findall(r"\b([A-Z][A-Z_]+\.md)\b", path.read_text(encoding="utf-8")):
            assert (REPO / doc).exists(), f"{path.relative_to(REPO)} refers to {doc}, which the " \
                "repository does not have"
