"""Say a site problem in a technician's words: pydantic's errors translated, echoes dropped,
and a hint for every problem (the field's own reference text when nothing better is known)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from pydantic import BaseModel

from appliance.errors import Problem
from appliance.site.model import Site

Loc = tuple[str | int, ...]


def without_echoes(errors: list[Any]) -> list[Any]:
    """Drop errors that only echo another: "too short" on a list whose items were refused, and
    "missing" for a key that is there under a misspelt name (reported as unknown, with the fix)."""
    refused = {tuple(err["loc"][:-1]) for err in errors if err["loc"] and
               isinstance(err["loc"][-1], int)}
    typos: dict[Loc, list[str]] = {}
    for err in errors:
        if err["type"] == "extra_forbidden":
            typos.setdefault(tuple(err["loc"][:-1]), []).append(str(err["loc"][-1]))

    def echo(err: Any) -> bool:
        loc = tuple(err["loc"])
        if err["type"] == "too_short":
            return loc in refused
        if err["type"] == "missing" and loc:
            return any(difflib.get_close_matches(typo, [str(loc[-1])], n=1)
                       for typo in typos.get(loc[:-1], []))
        return False

    return [err for err in errors if not echo(err)]


def hinted(problem: Problem) -> Problem:
    """Give a problem without a hint of its own the reference text of its field."""
    if problem.hint is not None:
        return problem
    doc = field_doc(problem.path)
    hint = f"expected: {doc}" if doc else "see the site reference (carine reference)"
    return Problem(problem.path, problem.message, hint, problem.line)


def field_doc(path: str) -> str | None:
    """The docstring of the field at ``path`` (``zones[0].vlan``), if the model has one."""
    model: Any = Site
    doc: str | None = None
    for part in re.findall(r"[^.\[\]]+", path):
        if part.isdigit():
            continue
        fields = getattr(model, "model_fields", None)
        if fields is None:
            return doc
        if part not in fields:
            continue  # a key of a mapping (`profiles.eleve`): stay on the value's model
        field = fields[part]
        doc = " ".join((field.description or "").split()) or None
        nested = models_in(field.annotation)
        model = nested[0] if nested else None
    return doc


def dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def line_of(loc: Loc, lines: dict[Loc, int]) -> int | None:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def pydantic_problem(err: Any, lines: dict[Loc, int]) -> Problem:
    loc: Loc = tuple(p for p in err["loc"] if p != "[key]")
    kind, message = err["type"], str(err["msg"])
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = difflib.get_close_matches(key, all_field_names(), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "remove it (see the site reference)"
        return Problem(dotted(loc), f"unknown key {key!r}", hint, line_of(loc, lines))
    if kind == "invalid_key":  # a YAML key that is a number, yes/no or empty
        where = dotted(loc[:-1])
        return Problem(where, f"key {value!r} is not a name",
                       "keys are words such as zones or vlan: remove it, or quote it",
                       line_of(loc[:-1], lines))
    if kind == "missing":
        return Problem(dotted(loc), "required key is missing", "add it (see examples/site.yaml)",
                       line_of(loc, lines))
    message = message.removeprefix("Value error, ")
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and \
            repr(value) not in message:
        message = f"{message} (got {value!r})"
    return Problem(dotted(loc), message, hint_for(kind), line_of(loc, lines))


def hint_for(kind: str) -> str | None:
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


def all_field_names() -> list[str]:
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
            todo += models_in(field.annotation)
    return sorted(names)


def models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in models_in(arg)]
