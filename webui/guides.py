"""The role guides of docs/console (Markdown written as tasks) as light HTML for the console's
help: headings, paragraphs, lists, links, screenshots as links; everything else escaped."""

from __future__ import annotations

import re
from pathlib import Path

from markupsafe import escape

_IMAGE = re.compile(r"!\[([^\]]*)\]\(captures/([A-Za-z0-9._-]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\((/[A-Za-z0-9/._-]*)\)")
_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str, shot: str = "capture d’écran") -> str:
    out = str(escape(text))
    # A link, not the picture: a help page stays under 100 KB (D-UI-3).
    out = _IMAGE.sub(rf'<a href="/captures/\2">\1 ({shot})</a>', out)
    out = _LINK.sub(r'<a href="\2">\1</a>', out)
    return _CODE.sub(r"<code>\1</code>", out)


def render_guide(root: Path, name: str, lang: str) -> str:
    path = root / f"{name}.{lang}.md"
    if not path.is_file():
        path, lang = root / f"{name}.fr.md", "fr"
    shot = "screenshot" if lang == "en" else "capture d’écran"
    lines = path.read_text(encoding="utf-8").splitlines()
    html: list[str] = []
    tag = ""  # the list being written, if any
    for line in lines:
        item = re.match(r"^(- |\d+\. )(.*)$", line)
        if item:
            wanted = "ul" if item.group(1) == "- " else "ol"
            if tag != wanted:
                if tag:
                    html.append(f"</{tag}>")
                html.append(f"<{wanted}>")
                tag = wanted
            html.append(f"<li>{_inline(item.group(2), shot)}</li>")
            continue
        if tag:
            html.append(f"</{tag}>")
            tag = ""
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 1, 4)  # the page's h1 is the title
            html.append(f"<h{level}>{_inline(line.lstrip('#').strip(), shot)}</h{level}>")
        elif line.strip():
            html.append(f"<p>{_inline(line, shot)}</p>")
    if tag:
        html.append(f"</{tag}>")
    return "\n".join(html)
