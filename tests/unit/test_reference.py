"""The README's site file reference is the model's own: regenerate it with `carine reference`."""

from __future__ import annotations

import re

import pytest

from appliance.site.reference import reference_markdown
from tests.conftest import REPO

pytestmark = pytest.mark.unit

START = "<!-- site-reference:start -->"
END = "<!-- site-reference:end -->"


def test_readme_carries_the_current_site_reference() -> None:
    readme = REPO / "README.md"
    assert readme.is_file(), "README.md is missing"
    text = readme.read_text(encoding="utf-8")
    assert text.count(START) == 1 and text.count(END) == 1, (
        f"README.md needs exactly one {START} ... {END} block")
    inside = text.split(START, 1)[1].split(END, 1)[0]
    assert inside.strip() == reference_markdown().strip(), (
        "README.md's site reference is out of date: replace the text between the markers with "
        "the output of `carine reference`")


def test_reference_documents_every_field() -> None:
    text = reference_markdown()
    for key in ("uai", "trunk", "upstreams", "subnet", "dhcp", "allow", "blocked_categories",
                "intercept_https", "metrics_port"):
        assert f"| `{key}` |" in text, key
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) > 40
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        assert len(cells) == 4, row
        assert all(cells), f"a field without type, default or meaning: {row}"
