"""Read site.yaml into a ``Site``, or report every problem with its path, line and a hint.

Structural problems (YAML, types, unknown keys) come from pydantic, cross-field ones from
semantics."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from appliance.errors import CarineError, Problem, SiteInvalid
from appliance.site.model import Site
from appliance.site.semantics import site_problems

Loc = tuple[str | int, ...]


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
        errors = _without_echoes(exc.errors())
        problems = duplicates + [_hinted(_pydantic_problem(err, lines)) for err in errors]
        raise SiteInvalid(source, problems) from None
    problems = duplicates + [_hinted(_locate(p, lines)) for p in site_problems(site)]
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


def _without_echoes(errors: list[Any]) -> list[Any]:
    """Drop "too short" on a list whose items were refused: it only echoes the items' errors."""
    refused = {tuple(err["loc"][:-1]) for err in errors if err["loc"] and
               isinstance(err["loc"][-1], int)}
    return [err for err in errors if not (err["type"] == "too_short" and
                                          tuple(err["loc"]) in refused)]


def _hinted(problem: Problem) -> Problem:
    """Give a problem without a hint of its own the reference text of its field."""
    if problem.hint is not None:
        return problem
    doc = _field_doc(problem.path)
    hint = f"expected: {doc}" if doc else "see the site reference (carine reference)"
    return Problem(problem.path, problem.message, hint, problem.line)


def _field_doc(path: str) -> str | None:
    """The docstring of the field at ``path`` (``zones[0].vlan``), if the model has one."""
    model: Any = Site
    doc: str | None = None
    for part in re.findall(r"[^.\[\]]+", path):
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None or part not in fields:
            if model is not None and isinstance(getattr(model, "__args__", None), tuple):
                continue  # a key of a mapping (profile names): stay on the value's model
            return doc if fields is None else None
        field = fields[part]
        doc = " ".join((field.description or "").split()) or None
        nested = _models_in(field.annotation)
        model = nested[0] if nested else None
    return doc


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
                problems.append(Problem(_path((*loc, key)), f"key {key!r} is given twice",
                                        "keep one", line=key_node.start_mark.line + 1))
            seen.add(key)
            problems += _index_lines(value_node, (*loc, key), lines)
            lines[(*loc, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            problems += _index_lines(item, (*loc, i), lines)
    return problems


def _path(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def _line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _locate(problem: Problem, lines: dict[Loc, int]) -> Problem:
    loc: list[str | int] = []
    for part in problem.path.replace("]", "").replace("[", ".").split("."):
        loc.append(int(part) if part.isdigit() else part)
    return Problem(problem.path, problem.message, problem.hint, _line_of(tuple(loc), lines))


def _pydantic_problem(err: Any, lines: dict[Loc, int]) -> Problem:
    loc: Loc = tuple(p for p in err["loc"] if p != "[key]")
    kind, message = err["type"], str(err["msg"])
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, _all_field_names(), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "remove it (see the site reference)"
        return Problem(_path(loc), f"unknown key {key!r}", hint, _line_of(loc, lines))
    if kind == "invalid_key":  # a YAML key that is a number, yes/no or empty
        where = _path(loc[:-1])
        return Problem(where, f"key {value!r} is not a name",
                       "keys are words such as zones or vlan: remove it, or quote it",
                       _line_of(loc[:-1], lines))
    if kind == "missing":
        return Problem(_path(loc), "required key is missing", "add it (see examples/site.yaml)",
                       _line_of(loc, lines))
    message = message.removeprefix("Value error, ")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and \
            repr(value) not in message:
        message = f"{message} (got {value!r})"
    return Problem(_path(loc), message, _hint_for(kind), _line_of(loc, lines))


def _hint_for(kind: str) -> str | None:
    hints = {
        "ip_v4_network": "write a network with its prefix length, e.g. 10.30.0.0/22, "
                         "with no host bits set",
        "ip_v4_address": "write an IPv4 address, e.g. 10.30.0.1",
        "ip_v4_interface": "write an address with its prefix length, e.g. 203.0.113.10/29",
        "string_pattern_mismatch": "see the site reference for the expected format",
        "enum": None,
        "literal_error": None,
    }
    return hints.get(kind)


def _all_field_names() -> list[str]:
    names: set[str] = set()
    todo: list[type[BaseModel]] = [Site]
    seen: set[type[BaseModel]] = set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            names.add(name)
            todo += _models_in(field.annotation)
    return sorted(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]
