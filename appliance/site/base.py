"""Shared building blocks of the site model: a strict frozen base and the small value types.

Every section forbids unknown keys so that a typo is reported instead of silently ignored."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
IFNAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$")


class Section(BaseModel):
    """Base of every part of the site file: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


def _check_name(value: str) -> str:
    if not NAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid name: use 1 to 15 lowercase letters, digits or '-', "
            "starting with a letter"
        )
    return value


def _check_ifname(value: str) -> str:
    if not IFNAME_RE.match(value):
        raise ValueError(
            f"{value!r} is not a valid Linux interface name (at most 15 characters: "
            "letters, digits, '.', '-', '_')"
        )
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A short identifier used in interface, set and file names (zones, profiles)."""

InterfaceName = Annotated[str, AfterValidator(_check_ifname)]
"""A Linux network interface name."""

Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP or UDP port number."""
