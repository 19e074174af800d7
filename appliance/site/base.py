"""Shared building blocks of the site model: a strict frozen base and the small value types.

Every section forbids unknown keys so that a typo is reported instead of silently ignored."""

from __future__ import annotations

import re
import types
import typing
from ipaddress import IPv4Address, IPv4Interface, IPv4Network
from typing import Annotated, Any, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,14}$")
IFNAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,14}$")
HOST_LABEL_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


class Section(BaseModel):
    """Base of every part of the site file: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_number_in_disguise(cls, value: Any, info: ValidationInfo) -> Any:
        # pydantic takes true as 1 and a number as an address: `vlan: yes` would silently
        # become VLAN 1, `gateway: yes` 0.0.0.1 and `gateway: 167772161` 10.0.0.1.
        if info.field_name is None:
            return value
        wanted = cls.model_fields[info.field_name].annotation
        each = get_args(wanted)[0] if get_origin(wanted) is tuple else wanted
        values = value if get_origin(wanted) is tuple and isinstance(value, list) else [value]
        for one in values:
            if isinstance(one, bool) and _wants(each, (int,)):
                raise ValueError("should be a number, not a yes/no (true/false) value")
            if isinstance(one, int) and _wants(each, _ADDRESSES):
                shown = str(one).lower() if isinstance(one, bool) else repr(one)
                raise ValueError(f"{shown} is not an address: write it as e.g. 10.30.0.1 "
                                 "(a network as 10.30.0.0/22)")
        return value


_ADDRESSES = (IPv4Address, IPv4Interface, IPv4Network)


def _wants(annotation: Any, kinds: tuple[type, ...]) -> bool:
    """Whether a field typed ``annotation`` takes one of ``kinds`` (and no yes/no value)."""
    if get_origin(annotation) is Annotated:
        return _wants(get_args(annotation)[0], kinds)
    if get_origin(annotation) in (typing.Union, types.UnionType):
        args = get_args(annotation)
        return bool not in args and any(_wants(arg, kinds) for arg in args)
    return annotation in kinds


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
