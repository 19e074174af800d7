"""Where the lab's record lives and the lock that lets one ``up`` or ``down`` run at a time.

Shared by ``commands`` and ``wifi`` (which adds the 802.1X corner to a running lab)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager

from appliance.lab.topology import LAB_DIR

STATE = LAB_DIR / "state.json"
LOCK = LAB_DIR.with_name("carine-lab.lock")  # beside the lab folder, which down removes


@contextmanager
def locked() -> Iterator[None]:
    """One ``up`` or ``down`` at a time: two racing would leave daemons nobody recorded."""
    LAB_DIR.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
