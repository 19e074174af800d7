"""Regenerate the site file reference in README.md from the model (make reference)."""

from __future__ import annotations

import sys
from pathlib import Path

from appliance.site.reference import reference_markdown

START, END = "<!-- site-reference:start -->", "<!-- site-reference:end -->"


def main() -> int:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{START}\n{reference_markdown()}{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
