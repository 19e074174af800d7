"""One list update at a time: an exclusive flock on ``generations/.lock``, held from the fetch to
the status write; a second update waits a bounded time, then is turned away."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from appliance.errors import CarineError
from filtering.generations import Store

POLL = 0.1  # seconds between tries while waiting


class UpdateBusy(CarineError):
    """Another update or rollback of the same index is running; nothing was done."""


@contextmanager
def locked(store: Store, wait: float = 0.0) -> Iterator[None]:
    """Hold the update lock of ``store`` (waiting up to ``wait`` seconds for it).

    flock, not a PID file: the kernel drops it when the holder dies, so a crashed update never
    blocks the next one."""
    store.dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    fd = os.open(store.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                    raise UpdateBusy(
                        f"another list update of {store.index} is running (pid {holder})",
                        "nothing was done; try again when it has finished, or pass --wait "
                        "SECONDS") from None
                time.sleep(POLL)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # for the message above, nothing else
        yield
    finally:
        os.close(fd)  # releases the lock
