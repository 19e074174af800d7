"""Group commit of the gate's set changes: one thread runs every `nft -f -`; the changes asked
for while a batch runs wait and go together in the next one, so a burst of logins costs a few
nft processes instead of one each, and nobody waits when the portal is quiet."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from appliance.errors import CarineError

log = logging.getLogger("carine.portal")
MAX_BATCH = 256  # changes per nft transaction: bounds one batch's time and a failure's blast


@dataclass
class _Change:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    error: CarineError | None = None


class Batcher:
    """Runs ``apply`` (one nft transaction for the text given) from a single thread.

    ``submit`` returns only once its change is in the kernel (or raises why not): a login
    answers after its address is in the set. Texts are joined in the order they were
    submitted, so a logout then a login of one address stay in that order. If a joined batch
    fails, each change is retried alone, so that one bad change fails only its own caller."""

    def __init__(self, apply: Callable[[str], None], name: str = "nft-batcher") -> None:
        self.apply = apply
        self.name = name
        self.pending: queue.SimpleQueue[_Change] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.batches = 0  # nft transactions run, for the benchmark and the tests
        self.changes = 0

    def submit(self, text: str, timeout: float = 60.0) -> None:
        change = _Change(text)
        self._ensure_thread()
        self.pending.put(change)
        if not change.done.wait(timeout):
            raise CarineError(f"the firewall change waited more than {timeout:.0f} s",
                              "is nft hanging? see the portal's log")
        if change.error is not None:
            raise change.error

    def _ensure_thread(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self.thread.start()

    def _run(self) -> None:
        while True:
            group = [self.pending.get()]
            while len(group) < MAX_BATCH:
                try:
                    group.append(self.pending.get_nowait())
                except queue.Empty:
                    break
            self._apply(group)

    def _apply(self, group: list[_Change]) -> None:
        try:
            self.batches += 1
            self.changes += len(group)
            self.apply("".join(c.text for c in group))
        except CarineError as exc:
            if len(group) == 1:
                group[0].error = exc
            else:
                log.warning("a batch of %d set changes failed; applying them one by one",
                            len(group))
                for change in group:
                    try:
                        self.apply(change.text)
                    except CarineError as alone:
                        change.error = alone
        except Exception as exc:  # never leave a caller waiting on a thread that died
            log.exception("set change batch failed")
            for change in group:
                change.error = CarineError(f"the firewall change failed: {exc!r}")
        finally:
            for change in group:
                change.done.set()
