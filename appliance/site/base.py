"""Shared building blocks of the site model: a strict frozen base and the small value types.

Every section forbids unknown keys so that a typo is reported instead of silently ignored."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
IFNAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$")
HOST_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


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


def check_line(value: str) -> str:
    # Free text is copied into rendered files (comments, descriptions): a line break there
    # would start a directive of its own.
    if any(ch < " " or ch == "\x7f" for ch in value):
        raise ValueError("must be a single line of text, without tabs or control characters")
    return value


def _check_host(value: str) -> str:
    labels = value.removesuffix(".").split(".")
    if len(value) > 253 or not all(HOST_LABEL_RE.match(label) for label in labels):
        raise ValueError(f"{value!r} is not a host name or IPv4 address")
    return value


Name = Annotated[str, AfterValidator(_check_name)]
"""A short identifier used in interface, set and file names (zones, profiles)."""

InterfaceName = Annotated[str, AfterValidator(_check_ifname)]
"""A Linux network interface name."""

Line = Annotated[str, AfterValidator(check_line)]
"""One line of free text (no line breaks: it is copied into rendered files)."""

Host = Annotated[str, AfterValidator(_check_host)]
"""A DNS host name or an IPv4 address."""

Port = Annotated[int, Field(ge=1, le=65535)]
"""A TCP or UDP port number."""
