"""AAF ``ficAlimMENESR`` XML into raw requests (add, modify, delete with their attributes), read
with defusedxml: entities and external references are refused, errors carry the file and line."""

from __future__ import annotations

from dataclasses import dataclass, field

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from appliance.imports.codes import ImportRefused
from appliance.imports.source import check_xml_encoding

ROOT = "ficAlimMENESR"
OPS = {"addRequest": "add", "modifyRequest": "modify", "deleteRequest": "delete"}
MAX_RECORDS = 200_000
MAX_VALUES = 2_000  # values of one attribute (a teacher's classes and subjects)
MAX_VALUE_CHARS = 1_024
CHUNK = 1 << 16
CATEGORY_ATTRS = ("categoriePersonne", "categorieStructure")


@dataclass
class RawRequest:
    """One request of the file as written: operation, category, identifier, attribute values."""

    op: str
    line: int
    category: str = ""
    identifier: str = ""
    attrs: dict[str, list[str]] = field(default_factory=dict)
    too_long: str | None = None  # the first attribute whose value broke a limit


class _Target:
    """An expat target that keeps one request at a time (memory stays flat on big files)."""

    def __init__(self, name: str) -> None:
        self.parser: DefusedXMLParser | None = None
        self.name = name
        self.stack: list[str] = []
        self.requests: list[RawRequest] = []
        self.current: RawRequest | None = None
        self.attr: str | None = None
        self.text: list[str] = []

    def line(self) -> int:
        assert self.parser is not None
        return int(self.parser.parser.CurrentLineNumber)

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if not self.stack and tag != ROOT:
            raise ImportRefused("IMP-105", self.name, f"the root element is <{tag}>, "
                                f"not <{ROOT}>", self.line())
        self.stack.append(tag)
        if tag in OPS and len(self.stack) == 2:
            if len(self.requests) >= MAX_RECORDS:
                raise ImportRefused("IMP-107", self.name, f"more than {MAX_RECORDS} requests")
            self.current = RawRequest(OPS[tag], self.line())
        elif self.current is not None and tag in ("attr", "modification"):
            self.attr = attrib.get("name", "")
            if self.attr not in CATEGORY_ATTRS:
                self.current.attrs.setdefault(self.attr, [])
        self.text = []

    def data(self, text: str) -> None:
        if self.current is not None and sum(map(len, self.text)) <= MAX_VALUE_CHARS:
            self.text.append(text)

    def end(self, tag: str) -> None:
        self.stack.pop()
        request = self.current
        if request is None:
            return
        if tag == "value" and self.attr is not None:
            self._value(request, "".join(self.text).strip())
        elif tag == "id" and "identifier" in self.stack:
            request.identifier = "".join(self.text).strip()
        elif tag in ("attr", "modification"):
            self.attr = None
        elif tag in OPS and len(self.stack) == 1:
            self.requests.append(request)
            self.current = None
        self.text = []

    def _value(self, request: RawRequest, value: str) -> None:
        assert self.attr is not None
        if self.attr in CATEGORY_ATTRS:
            request.category = value
            return
        values = request.attrs[self.attr]
        if len(values) >= MAX_VALUES or len(value) > MAX_VALUE_CHARS:
            request.too_long = request.too_long or self.attr
            return
        values.append(value)

    def close(self) -> list[RawRequest]:
        return self.requests


def parse_aaf(name: str, data: bytes) -> list[RawRequest]:
    """Every request of an AAF file; any malformed, hostile or truncated file raises
    ``ImportRefused`` with the line where reading stopped."""
    if not data.strip():
        raise ImportRefused("IMP-102", name, "the file is empty")
    check_xml_encoding(name, data)
    target = _Target(name)
    parser = DefusedXMLParser(target=target, forbid_dtd=False, forbid_entities=True,
                              forbid_external=True)
    target.parser = parser  # for the line numbers
    try:
        for offset in range(0, len(data), CHUNK):
            parser.feed(data[offset:offset + CHUNK])
        parser.close()
    except DefusedXmlException as exc:
        raise ImportRefused("IMP-103", name, f"{type(exc).__name__}: {exc}",
                            _safe_line(target)) from None
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        message = str(exc).split(":")[0]
        if "no element found" in message or "unclosed token" in message:
            message += " (the file is truncated)"
        elif "invalid token" in message and not data.isascii():
            message += " (a byte that is not valid in the declared encoding?)"
        raise ImportRefused("IMP-102", name, message, line) from None
    except (ValueError, LookupError) as exc:
        raise ImportRefused("IMP-104", name, str(exc), _safe_line(target)) from None
    return target.requests


def _safe_line(target: _Target) -> int | None:
    try:
        return target.line()
    except Exception:  # the parser is already torn down
        return None
