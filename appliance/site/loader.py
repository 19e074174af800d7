"""Read site.yaml into a ``Site``, or report every problem with its path, line and a hint.

Structural problems (YAML, types, unknown keys) come from pydantic, cross-field ones from
semantics."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from appliance.errors import CarineError, Problem, SiteInvalid
from appliance.site.messages import (
    Loc,
    dotted,
    hinted,
    line_of,
    pydantic_problem,
    without_echoes,
)
from appliance.site.model import Site
from appliance.site.salvage import Salvage
from appliance.site.semantics import site_problems


def load_site(path: Path) -> Site:
    """Parse and validate the site file at ``path``; raise ``SiteInvalid`` listing all problems."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CarineError(f"cannot read site file {path}: {exc.strerror}",
                          "give the path of a site.yaml (see examples/)") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:  # the file is there but is no site: a bad site (exit 2)
        line = data[:exc.start].count(b"\n") + 1
        raise SiteInvalid(str(path), [Problem(
            "", f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save the site file as UTF-8 (not Latin-1, not a binary file)", line=line)]) from None
    return parse_site(text, str(path))


def parse_site(text: str, source: str = "site.yaml") -> Site:
    """Parse site YAML text; ``source`` names it in messages."""
    try:
        too_deep = _too_deep(text)
        if too_deep is not None:  # PyYAML composes recursively: it would overflow the stack
            raise SiteInvalid(source, [Problem(
                "", f"the YAML nests more than {MAX_DEPTH} levels deep",
                "a site file nests a few levels only: look for unclosed [ or {",
                line=too_deep)])
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SiteInvalid(source, [_yaml_problem(exc, text)]) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise SiteInvalid(source, [Problem("", "the site file must be a YAML mapping",
                                           "start from examples/site.yaml", line=1)])
    if _expanded_size(root) > MAX_VALUES:  # aliases of aliases: a "billion laughs"
        raise SiteInvalid(source, [Problem(
            "", f"the YAML expands to more than {MAX_VALUES:,} values through its aliases",
            "a site file needs few aliases (*name), if any: write the values out",
            line=_first_alias_line(text))])
    lines: dict[Loc, int] = {}
    try:
        duplicates = _index_lines(root, (), lines)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # composed, but not constructible: unknown tag, unhashable key
        raise SiteInvalid(source, [_yaml_problem(exc, text)]) from None
    except RecursionError:  # an anchor used inside itself: `a: &x [*x]`
        raise SiteInvalid(source, [Problem("", "a YAML alias refers to the node that contains it",
                                           "site files need no recursive anchors",
                                           line=_first_alias_line(text))]) from None
    try:
        site = Site.model_validate(data)
    except ValidationError as exc:
        errors = without_echoes(exc.errors())
        problems = duplicates + [hinted(pydantic_problem(err, lines)) for err in errors]
        # The well-formed rest still gets the checks across fields: every problem in one run.
        salvage = Salvage(data)
        rest = salvage.site(list(exc.errors()))
        if rest is not None:
            problems += [hinted(_locate(p, lines)) for p in salvage.problems(rest, site_problems)]
        raise SiteInvalid(source, problems) from None
    problems = duplicates + [hinted(_locate(p, lines)) for p in site_problems(site)]
    if problems:
        raise SiteInvalid(source, problems)
    return site


MAX_DEPTH = 64
_OPEN = (yaml.BlockMappingStartToken, yaml.BlockSequenceStartToken,
         yaml.FlowMappingStartToken, yaml.FlowSequenceStartToken)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def _too_deep(text: str) -> int | None:
    """The line where the nesting passes ``MAX_DEPTH``, if it does (the scanner is iterative)."""
    depth = 0
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, _OPEN):
            depth += 1
            if depth > MAX_DEPTH:
                return int(token.start_mark.line) + 1
        elif isinstance(token, _CLOSE):
            depth -= 1
    return None


MAX_VALUES = 100_000


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds once every alias is expanded (each node counted
    once per place it appears), without expanding: a node's size is computed once."""
    size: dict[int, int] = {}
    todo: list[tuple[yaml.Node, bool]] = [(root, False)]
    while todo:
        node, children_done = todo.pop()
        kids = _children(node)
        if children_done:
            size[id(node)] = 1 + sum(size.get(id(kid), 0) for kid in kids)
        elif id(node) not in size:
            size[id(node)] = 0  # a node inside itself counts nothing more (reported later)
            todo.append((node, True))
            todo += [(kid, False) for kid in kids if id(kid) not in size]
    return size[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _first_alias_line(text: str) -> int | None:
    for token in yaml.scan(text, Loader=yaml.SafeLoader):
        if isinstance(token, yaml.AliasToken):
            return int(token.start_mark.line) + 1
    return None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> Problem:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    if isinstance(exc, yaml.reader.ReaderError):  # a control character: located by offset only
        line = text[:exc.position].count("\n") + 1
        return Problem("", f"invalid YAML: character U+{exc.character:04X} is not allowed",
                       "remove the control character (a site file is plain text)", line=line)
    what = getattr(exc, "problem", None) or str(exc)
    return Problem("", f"invalid YAML: {what}", "check indentation and quoting", line=line)


def _index_lines(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> list[Problem]:
    """Record the line of every key and item; report keys given twice (YAML keeps the last)."""
    lines[loc] = node.start_mark.line + 1
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                problems.append(Problem(dotted((*loc, key)), f"key {key!r} is given twice",
                                        "keep one", line=key_node.start_mark.line + 1))
            seen.add(key)
            problems += _index_lines(value_node, (*loc, key), lines)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _index_lines(item, (*loc, i), lines)
    return problems


def _locate(problem: Problem, lines: dict[Loc, int]) -> Problem:
    loc: list[str | int] = []
    for part in problem.path.replace("]", "").replace("[", ".").split("."):
        loc.append(int(part) if part.isdigit() else part)
    return Problem(problem.path, problem.message, problem.hint, line_of(tuple(loc), lines))
