"""The site file reference, generated from the model's own field docs (README "Site file").

One table per section, in file order; a test keeps the README copy in step with the model."""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from appliance.site.model import Site


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args if a is not type(None))
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"map of {_type_name(args[0])} to {_type_name(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(str(m.value) for m in annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation.__name__
    names = {"IPv4Address": "IPv4 address", "IPv4Network": "IPv4 network",
             "IPv4Interface": "address/len"}
    name = getattr(annotation, "__name__", str(annotation))
    return names.get(name, name)


def _default(field: Any) -> str:
    if field.is_required():
        return "**required**"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, dict):
        return "`" + ", ".join(value) + "`"
    if value is None or value is PydanticUndefined:
        return "—"
    if isinstance(value, BaseModel):
        return "defaults"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"  # as YAML writes it
    if value == "":
        return '`""`'
    if isinstance(value, enum.Enum):
        return f"`{value.value}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(map(str, value)) + "]`"
    return f"`{value}`"


def _submodels(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _submodels(a)]


def reference_markdown() -> str:
    """Markdown tables for every section of the site file."""
    out: list[str] = []
    seen: set[type[BaseModel]] = set()
    todo: list[tuple[str, type[BaseModel]]] = [("(top level)", Site)]
    while todo:
        path, model = todo.pop(0)
        if model in seen:
            continue
        seen.add(model)
        doc = (model.__doc__ or "").strip().splitlines()[0]
        out += [f"#### `{path}` — {doc}", "", "| key | type | default | meaning |",
                "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            desc = (field.description or "").replace("\n", " ").replace("|", "\\|")
            out.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
                       f"{desc} |")
            prefix = "" if model is Site else f"{path}."
            sub = f"{prefix}{name}"
            origin = typing.get_origin(field.annotation)
            if origin is tuple:
                sub += "[]"
            elif origin is dict:
                sub += ".NAME"
            todo += [(sub, m) for m in _submodels(field.annotation)]
        out.append("")
    return "\n".join(out)
