"""The helper's compiled fast lane, seen from Python: built over the mapped index, taught every
answer Python decides, so that the next request with the same answer never reaches Python.

The lane (filtering/_fastpath.cpp) finds a request's relevant categories in the same index and
looks up the answer taught for (client's group, categories); it hands back every line it cannot
treat exactly as Python would. Correctness rests on one rule: an answer is taught only when it
depends on nothing but the group and the categories (see ``Decider.decide``), and everything
taught is forgotten whenever Python's own answer cache is."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from filtering.answer import Answer

log = logging.getLogger("carine.filter")
MAX_BITS = 128  # the lane's category mask
MAX_CLIENTS = 65_536  # as the Python cache: a school has a few thousand devices
MAX_ANSWERS = 16_384  # (group, categories) pairs; then forgotten and relearnt


def native_module() -> Any | None:
    """The compiled module, or None when it was not built (the helper then decides in Python)."""
    try:
        from filtering import _fastpath  # type: ignore[attr-defined]
    except ImportError as exc:
        log.warning("compiled fast lane unavailable (%s): deciding every request in Python", exc)
        return None
    return _fastpath


class FastLane:
    """One index's lane, and what Python taught it: groups by name, answers by number."""

    def __init__(self, native: Any, bits: dict[str, int]) -> None:
        self.native = native
        self.bits = bits  # relevant category -> its bit in the lane's masks
        self.groups: dict[str, int] = {}
        self.answers: list[Answer] = []  # by the id the lane reports
        self._ids: dict[tuple[bytes, tuple[str, ...] | None], int] = {}
        self._clients = 0
        self.unlisted = 0  # refusals beyond LISTED_PER_CLIENT (see refusals.py), not yet told
        self._stash: list[tuple[bytes, list[tuple[str, str, str]]]] = []

    @classmethod
    def build(cls, sections: tuple[memoryview, memoryview, memoryview, memoryview],
              set_members: Iterable[Iterable[str]], expressions: dict[str, str],
              relevant: frozenset[str],
              shards: Sequence[tuple[int, int, int, int]] | None = None,
              sites: memoryview | None = None) -> FastLane | None:
        """The lane over an index's four sections, its category sets (names) and its
        expressions (category -> combined pattern), for the ``relevant`` categories; None when
        the lane cannot match Python exactly here (then Python decides everything).
        ``shards`` places the domain shards in the domain sections (see filtering.shards);
        ``sites`` is the index's sites filter, if it has one (see filtering.sitefilter)."""
        module = native_module()
        if module is None:
            return None
        if sys.byteorder != "little":  # the set arrays are read in place as little-endian
            return None
        names = sorted(relevant)
        if len(names) > MAX_BITS:
            log.warning("%d relevant categories: more than the fast lane's %d", len(names),
                        MAX_BITS)
            return None
        bits = {name: 1 << i for i, name in enumerate(names)}
        masks = [sum(bits.get(name, 0) for name in members) for members in set_members]
        patterns = [(pattern, bits[name]) for name, pattern in sorted(expressions.items())
                    if name in bits]
        if not all(pattern.isascii() for pattern, _ in patterns):
            log.warning("non-ASCII expressions: deciding every request in Python")
            return None
        try:
            whole = [(0, len(sections[0]), 0, len(sections[1]))]
            native = module.FastPath(*sections, masks, patterns, list(shards or whole), sites)
        except ValueError as exc:
            log.warning("fast lane refused the index (%s): deciding every request in Python", exc)
            return None
        return cls(native, bits)

    def mask(self, categories: Iterable[str]) -> int:
        bits = self.bits
        return sum(bits.get(name, 0) for name in categories)

    def answer(self, lines: bytes) -> tuple[bytes, list[bytes], dict[int, int]]:
        """(answers, lines left to Python, {answer id: count}); refusals wait for
        ``take_refusals``."""
        result: tuple[bytes, list[bytes], dict[int, int]] = self.native.answer(lines)
        return result

    def take_refusals(self) -> list[tuple[bytes, list[tuple[str, str, str]]]]:
        """The refusals given since the last call: each as the lane's text ("client<TAB>host<TAB>id"
        lines) and (category, reason, profile) by answer id (see refusals.rows)."""
        self._stash_refusals()
        taken, self._stash = self._stash, []
        return taken

    def _stash_refusals(self) -> None:
        text: bytes
        unlisted: int
        text, unlisted = self.native.take_refusals()
        self.unlisted += unlisted
        if text:
            self._stash.append((text, [a.record[1:] if a.record is not None else ("-", "-", "-")
                                       for a in self.answers]))

    def counted(self, tally: dict[int, int]) -> dict[tuple[str, str, str], int]:
        """The lane's tally by the counters' labels."""
        out: dict[tuple[str, str, str], int] = {}
        for answer_id, count in tally.items():
            key = self.answers[answer_id].counted
            out[key] = out.get(key, 0) + count
        return out

    def learn(self, client: bytes, group: str, categories: Iterable[str],
              answer: Answer) -> None:
        """``client`` is in ``group``, which gets ``answer`` for ``categories`` (for any host
        that no policy layer names: the caller checks)."""
        group_id = self.groups.get(group)
        if group_id is None:
            if len(self.groups) >= MAX_CLIENTS:  # one per zone and identified user: never
                self.groups.clear()               # reached in a school, but bounded
                self.forget_clients()
                self.forget_answers()
            group_id = self.groups[group] = len(self.groups)
        if self._clients >= MAX_CLIENTS:
            self.forget_clients()
        self.native.teach_client(client, group_id)
        self._clients += 1
        record = answer.record[1:] if answer.record is not None else None
        key = (answer.words, record)
        answer_id = self._ids.get(key)
        if answer_id is None:
            if len(self.answers) >= MAX_ANSWERS:
                self.forget_answers()
            answer_id = self._ids[key] = len(self.answers)
            self.answers.append(answer)
        self.native.teach_answer(group_id, self.mask(categories), answer_id, answer.words,
                                 answer.record is not None)

    def forget_answers(self) -> None:
        """Forget every answer taught (Python's answer cache was reset). The refusals given
        so far are set aside first: they name answers by number."""
        self._stash_refusals()
        self.native.clear_answers()
        self.answers.clear()
        self._ids.clear()

    def forget_clients(self) -> None:
        """Forget whose group each client is in (someone logged in or out)."""
        self.native.clear_clients()
        self._clients = 0

    def set_named(self, hosts: Iterable[str]) -> None:
        """Hosts (and their subdomains) whose answers depend on the host: left to Python."""
        self.native.set_named(sorted(hosts))

    def close(self) -> None:
        self.native.close()
