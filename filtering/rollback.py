"""``carine filter update --rollback``: switch the index back to the generation before the
current one (one rename, as an update); the lists left are withdrawn, so that the next daily
update does not bring them straight back."""

from __future__ import annotations

from pathlib import Path

from appliance.errors import CarineError
from filtering.attempt import Outcome, attempt
from filtering.fetch import UpdateRefused
from filtering.generations import Store, utc_now
from filtering.index import Index
from filtering.updatelock import locked


def rollback(index: Path, wait: float = 0.0, dns_config: Path | None = None) -> Outcome:
    """Switch the index back to the generation before the current one."""
    store = Store(index)
    with locked(store, wait):
        return attempt(store, "rollback", None, lambda: _rollback(store), dns_config)


def _rollback(store: Store) -> Outcome:
    store.clean()
    manifest = store.load()
    store.adopt(manifest)
    current = store.current(manifest)
    older = (manifest.generations[:manifest.generations.index(current)] if current
             else manifest.generations)  # no index at all: the newest kept one is the way back
    if not older:
        what = f"{current.name} is the oldest generation kept" if current else "none is kept"
        raise UpdateRefused(f"no generation to roll back to: {what} in {store.dir}",
                            "nothing was changed; updates keep --keep generations to go back to")
    target = older[-1]
    try:
        Index.open(store.path(target)).close()  # never switch to a file that does not open
    except CarineError as exc:
        raise UpdateRefused(f"the previous generation {target.name} does not open: {exc.message}",
                            "nothing was changed; run an update instead") from exc
    store.switch(target)
    if current is not None:
        manifest.withdrawn.append({"name": current.name, "sha256": current.sha256 or "",
                                   "index_sha256": current.index_sha256,
                                   "at": utc_now().isoformat(timespec="seconds")})
    store.save(manifest)
    note = f"rolled back to {target.name}" + (f" (was {current.name})" if current else "")
    return Outcome("rollback", current, target, note)
