"""Golden files: what each example site renders to on the appliance, file by file.

A change to a renderer or template shows up here as a readable diff. When the change is intended,
regenerate and review the golden files:

    CARINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render
    git diff tests/render/golden

The trees are rendered with the system layout (/etc, /var/lib/carine ...), so they read exactly as
the files installed on an appliance, with no temporary paths in them."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import pytest

from appliance.render import Layout, render_files
from appliance.render.layout import PROGRAMS
from appliance.site import load_site
from tests.conftest import EXAMPLES, REPO, in_ci

pytestmark = pytest.mark.render

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("CARINE_UPDATE_GOLDEN") == "1"
EXAMPLE_SITES = sorted(EXAMPLES.glob("*.yaml"))


def rendered(example: Path) -> dict[str, str]:
    """The files ``example`` renders to, by path inside the tree."""
    files = render_files(load_site(example), Layout.system())
    return {str(path): content for path, content in files.items()}


def golden_paths(directory: Path) -> set[str]:
    """Paths of the golden files kept for one example."""
    if not directory.is_dir():
        return set()
    return {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}


def _update(directory: Path, files: dict[str, str]) -> None:
    for stale in golden_paths(directory) - set(files):
        (directory / stale).unlink()
    for path, content in files.items():
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != content.encode():
            target.write_bytes(content.encode())
    for folder in sorted(directory.rglob("*"), reverse=True):  # deepest first
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


@pytest.mark.parametrize("example", EXAMPLE_SITES, ids=lambda p: p.stem)
def test_rendered_files_match_golden(example: Path) -> None:
    directory = GOLDEN / example.stem
    files = rendered(example)
    if UPDATE:
        if in_ci():
            pytest.fail("CARINE_UPDATE_GOLDEN=1 in CI: golden files are updated by a person")
        _update(directory, files)
    problems = []
    for path, content in sorted(files.items()):
        target = directory / path
        if not target.is_file():
            problems.append(f"{path}: no golden file")
            continue
        expected = target.read_bytes().decode("utf-8")
        if expected != content:
            diff = difflib.unified_diff(expected.splitlines(keepends=True),
                                        content.splitlines(keepends=True),
                                        f"golden/{example.stem}/{path}", f"rendered/{path}")
            problems.append("".join(diff))
    assert not problems, (
        "\n".join(problems)
        + "\nif the change is intended: CARINE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/render, "
        "then review git diff tests/render/golden")


@pytest.mark.parametrize("example", EXAMPLE_SITES, ids=lambda p: p.stem)
def test_no_stale_golden_file(example: Path) -> None:
    stale = golden_paths(GOLDEN / example.stem) - set(rendered(example))
    assert not stale, f"golden files nothing renders any more: {sorted(stale)}"


def test_every_golden_tree_has_its_example() -> None:
    kept = {p.name for p in GOLDEN.iterdir() if p.is_dir()} if GOLDEN.is_dir() else set()
    assert kept == {p.stem for p in EXAMPLE_SITES}


def test_rendered_files_refer_to_system_paths_only() -> None:
    # The golden trees must read as installed: no path of the machine that rendered them.
    for example in EXAMPLE_SITES:
        for path, content in rendered(example).items():
            # The installed prefix may share its start with a clone in /opt/carine.
            content = content.replace(str(PROGRAMS.parent), "<installed>")
            assert str(REPO) not in content, path
            assert "/tmp/" not in content, path

