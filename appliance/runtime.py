"""The one codec of the runtime files that services hand their daemons (filtering.json,
portal.json, journal.json, monitoring.json, freeradius/carine.json): a pydantic model each,
written with ``model_dump_json`` and read with ``model_validate_json``, nowhere by hand.

A damaged or outdated file is refused whole, with its path and each problem named."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from appliance.errors import CarineError

HINT = "render the site again (carine render, or carine apply)"


class RuntimeFile(BaseModel):
    """Base of every runtime file's model: frozen, and no key the model does not know (a file
    from another version is refused, not half-read)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


M = TypeVar("M", bound=RuntimeFile)


class RuntimeFileError(CarineError):
    """A runtime file that cannot be used: missing, not JSON, or not what its model says."""


def dump(model: RuntimeFile) -> str:
    """The file's text: indented JSON in the model's field order, one trailing newline."""
    return model.model_dump_json(indent=2) + "\n"


def _problems(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(the whole file)"
        lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


def load(model: type[M], path: Path, what: str) -> M:
    """Read ``path`` as ``model``; ``what`` names the file for people ("portal")."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RuntimeFileError(f"cannot read the {what} configuration {path}: "
                               f"{exc.strerror or exc}", HINT) from exc
    try:
        return model.model_validate_json(data)
    except ValidationError as exc:
        raise RuntimeFileError(f"the {what} configuration {path} is damaged: {_problems(exc)}",
                               HINT) from exc
