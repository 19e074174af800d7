"""One update or rollback attempt: run while the lock is held, its outcome recorded in
status.json whatever it is, and the DNS views refreshed after a switch."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from appliance.errors import CarineError
from filtering.fetch import UpdateRefused
from filtering.generations import Generation, Store, utc_now
from filtering.updatestatus import Result, write_status

log = logging.getLogger("carine.filter")


@dataclass
class Outcome:
    """What an update or a rollback did (``after`` is None only when nothing changed)."""

    action: str
    before: Generation | None
    after: Generation | None
    note: str
    pruned: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dns: str | None = None  # what the DNS refresh did, or why it failed
    dns_failed: bool = False


def attempt(store: Store, action: str, source: str | None, body: Callable[[], Outcome],
            dns_config: Path | None) -> Outcome:
    """Run ``body`` and record its result in status.json, whatever it is."""
    started, clock = utc_now(), time.monotonic()
    try:
        outcome = body()
    except BaseException as exc:
        result: Result = "refused" if isinstance(exc, UpdateRefused) else "error"
        reason = exc.message if isinstance(exc, CarineError) else f"{type(exc).__name__}: {exc}"
        _record(store, action, result, reason, started, _current(store), source)
        if isinstance(exc, OSError):  # a full disk, a permission: one message, no traceback
            raise CarineError(f"the list {action} failed: {exc}",
                              "the index still opens a whole generation (carine filter "
                              "generations shows which)") from exc
        raise
    if outcome.after is not None and dns_config is not None:
        outcome.dns, outcome.dns_failed = _refresh_dns(dns_config)
    outcome.seconds = time.monotonic() - clock
    reason = outcome.note + (f"; DNS refresh failed: {outcome.dns}" if outcome.dns_failed else "")
    _record(store, action, "ok", reason, started, outcome.after or outcome.before, source)
    return outcome


def _record(store: Store, action: str, result: Result, reason: str, started: datetime,
            current: Generation | None, source: str | None) -> None:
    try:
        write_status(store, action=action, result=result, reason=reason, started=started,
                     current=current, source=source)
    except OSError as exc:  # the update's own outcome matters more than its report
        log.error("cannot write %s: %s", store.status_path, exc)


def _current(store: Store) -> Generation | None:
    try:
        return store.current(store.load())
    except (CarineError, OSError):
        return None  # the status must be written even when the manifest cannot be read


def _refresh_dns(config_path: Path) -> tuple[str, bool]:
    """The same as ``carine filter dns-refresh --reload``. A failure here does not undo the
    switch: the lists are right, only the DNS views lag until the next refresh."""
    from filtering.config import FilterConfig
    from filtering.dnsstate import refresh

    try:
        return str(refresh(FilterConfig.load(config_path), reload=True)), False
    except (CarineError, OSError) as exc:
        return (exc.message if isinstance(exc, CarineError) else str(exc)), True
