"""What the académie sees of the storage (carine_storage_*): per category the bytes used, the
quota given, the files, the users past the warning, and refusals by reason. Per-user figures
stay on the box (each user reads theirs as RFC 4331 properties). The daemon writes a snapshot
file that the exporter reads at scrape time (the exporter imports no service package)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from appliance.files import write_atomic

SNAPSHOT = "metrics.json"
EVERY_SECONDS = 15.0


def snapshot(storage: Any) -> dict[str, Any]:
    """Figures of ``storage`` (a storage.app.Storage) by category."""
    cfg = storage.cfg
    cats: dict[str, dict[str, float]] = {}
    directory = storage.directory
    ledger = storage.ledger
    for login in directory.logins(active=True):
        user = directory.user(login)
        if user is None:
            continue
        row = cats.setdefault(user.category, {"used": 0, "quota": 0, "files": 0, "warned": 0,
                                              "users": 0})
        used = ledger.used.get(login, 0)
        quota = cfg.quotas.of(login, user.category)
        row["used"] += used
        row["quota"] += quota
        row["files"] += ledger.files.get(login, 0)
        row["users"] += 1
        if quota and used * 100 >= quota * cfg.quotas.warn_percent:
            row["warned"] += 1
    refusals = dict(storage.counters.refusals)
    refusals["quota"] = ledger.refusals
    for outcome, n in storage.verifier.refusals.items():
        refusals[f"auth-{outcome}"] = n
    return {"categories": cats, "refusals": refusals}


def write(storage: Any, path: Path) -> None:
    write_atomic(path, json.dumps(snapshot(storage), sort_keys=True), mode=0o644)


def keep_writing(storage: Any, path: Path, stop: threading.Event) -> threading.Thread:
    """A thread that rewrites the snapshot every EVERY_SECONDS until ``stop`` is set."""
    def loop() -> None:
        while True:
            storage.purge_homes()  # the directory's purge runs elsewhere: follow it here
            write(storage, path)
            if stop.wait(EVERY_SECONDS):
                return
    thread = threading.Thread(target=loop, name="storage-metrics", daemon=True)
    thread.start()
    return thread
