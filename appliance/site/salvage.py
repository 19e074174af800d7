"""After a shape error, the site without the parts pydantic refused, so that the checks across
fields (overlaps, VLANs, D-NET-1) still run and one run reports every problem of the file."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import cache
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from appliance.errors import Problem
from appliance.site.messages import Loc, all_field_names, dotted
from appliance.site.model import Site

ROUNDS = 8
# Problems of the addressing core are kept after a cut (the filters below drop the echoes);
# those of the services are checked against zones, RADIUS clients and access points, so any
# cut there could have caused them: they wait for the next run.
CORE = ("school", "uplink", "dns", "ntp", "lan", "zones")
RELATED = ("zones", "radius", "wifi")
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site.yaml"
_ADDRESS_IN_TEXT = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?(?![\d.]\d)")
_PATH_IN_TEXT = re.compile(r"[a-z_]+(?:\.[a-z_]+|\[\d+\])*\[\d+\](?:\.[a-z_]+|\[\d+\])*")


class Salvage:
    """Cut refused parts out of a copy of the data, remembering list items by their place in
    the file, until the rest validates; then say the cross-field problems in the file's terms."""

    def __init__(self, data: Any) -> None:
        self.data = copy.deepcopy(data)
        self.removed: dict[Loc, set[int]] = {}  # list (file numbering) -> items cut from it
        self.cuts: list[Loc] = []  # file numbering
        self.names: set[str] = set()  # named in a part cut out: what else names them is moot
        self.ranges: set[IPv4Network] = set()  # addressed in a part cut out: likewise

    def site(self, errors: list[Any]) -> Site | None:
        """The site without every part an error points at, or None if a required part is bad."""
        for _ in range(ROUNDS):
            cuts = {self._existing(tuple(err["loc"])) for err in errors}
            cuts = {cut[:_last_index(cut) + 1] for cut in cuts}  # a list item goes whole
            if () in cuts:
                return None
            # Deepest and last first, so that no cut moves the place of another.
            for cut in sorted(cuts, key=_order, reverse=True):
                if not any(other != cut and _within(cut, other) for other in cuts):
                    self._cut(cut)
            try:
                return Site.model_validate(self.data)
            except ValidationError as exc:
                errors = list(exc.errors())
        return None

    def problems(self, site: Site, check: Callable[[Site], list[Problem]]) -> list[Problem]:
        """``check``'s problems on the salvaged site, located in the file; those that only
        follow from a cut (a reference to a zone cut out, a part cut) are left out."""
        kept = []
        for problem in check(site):
            loc = self._in_file(_parse(problem.path))
            if any(_within(loc, cut) or _within(cut, loc) for cut in self.cuts):
                continue
            if loc and loc[0] not in CORE and \
                    any(cut[0] in (*RELATED, loc[0]) for cut in self.cuts):
                continue  # e.g. "this access point is no RADIUS client" once a client is cut
            message = _PATH_IN_TEXT.sub(self._retell, problem.message)
            named = self.names | {dotted(cut) for cut in self.cuts}
            if any(re.search(rf"(?<![\w.\[]){re.escape(name)}(?![\w\[])", message)
                   for name in named):
                continue
            # "10.99.0.21 is not in a management zone" once that zone is cut: a consequence.
            if any(net.overlaps(cut) for net in _networks(_ADDRESS_IN_TEXT.findall(message))
                   for cut in self.ranges):
                continue
            kept.append(Problem(dotted(loc), message, problem.hint, problem.line))
        return kept

    def _cut(self, cut: Loc) -> None:
        parent = self._node(cut[:-1])
        self.names |= _names_in(parent[cut[-1]])
        stand_in = _example_value(cut)
        self.ranges |= _networks(_strings_in(parent[cut[-1]]) + _strings_in(stand_in))
        if stand_in is not None:
            # A required value outside any list: the example's stands in, never reported.
            parent[cut[-1]] = stand_in
            self.cuts.append(self._in_file(cut))
            return
        file_loc = self._in_file(cut)
        del parent[cut[-1]]
        if isinstance(cut[-1], int):
            self.removed.setdefault(file_loc[:-1], set()).add(int(file_loc[-1]))
        self.cuts.append(file_loc)

    def _existing(self, loc: Loc) -> Loc:
        """The part of ``loc`` present in the data (union tags and missing keys dropped)."""
        node, out = self.data, []
        for part in loc:
            if not _has(node, part):
                continue
            node = node[part]
            out.append(part)
        return tuple(out)

    def _node(self, loc: Loc) -> Any:
        node = self.data
        for part in loc:
            node = node[part]
        return node

    def _in_file(self, loc: Loc) -> Loc:
        """``loc`` in the salvaged data, numbered as in the file."""
        out: list[str | int] = []
        for part in loc:
            if isinstance(part, int):
                gone = self.removed.get(tuple(out), set())
                index, left = -1, part
                while left >= 0:
                    index += 1
                    if index not in gone:
                        left -= 1
                part = index
            out.append(part)
        return tuple(out)

    def _retell(self, match: re.Match[str]) -> str:
        return dotted(self._in_file(_parse(match.group(0))))


def _parse(path: str) -> Loc:
    return tuple(int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", path))


def _within(loc: Loc, outer: Loc) -> bool:
    return loc[:len(outer)] == outer


def _last_index(loc: Loc) -> int:
    """Where the last list index of ``loc`` is (its length - 1 without one)."""
    return max((i for i, part in enumerate(loc) if isinstance(part, int)), default=len(loc) - 1)


def _order(loc: Loc) -> tuple[tuple[int, int, str], ...]:
    return tuple((1, part, "") if isinstance(part, int) else (0, 0, part) for part in loc)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


@cache
def _example() -> Any:
    try:
        return yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None


def _example_value(loc: Loc) -> Any:
    """The value at ``loc`` in the example site, if it has one outside any list."""
    node = _example()
    for part in loc:
        if isinstance(part, int) or not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return copy.deepcopy(node)


def _names_in(node: Any) -> set[str]:
    """The names a part of the site gives (a zone's name, a profile's key): other parts that
    refer to them would be reported as unknown once the part is cut."""
    if isinstance(node, list):
        return {name for item in node for name in _names_in(item) if not isinstance(item, list)}
    if not isinstance(node, dict):
        return set()
    names = {key for key in node if isinstance(key, str) and key not in _fields()}
    name = node.get("name")
    return names | ({name} if isinstance(name, str) else set())


@cache
def _fields() -> frozenset[str]:
    return frozenset(all_field_names())


def _strings_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings_in(value)]
    if isinstance(node, list):
        return [text for value in node for text in _strings_in(value)]
    return [node] if isinstance(node, str) else []


def _networks(texts: list[str]) -> set[IPv4Network]:
    """The IPv4 addresses and networks among ``texts`` (an address as its /32)."""
    found = set()
    for text in texts:
        try:
            found.add(IPv4Network(text.strip(), strict=False))
        except ValueError:
            continue
    return found
