"""``carine filter update``: fetch new lists, check them, compile them into a new generation and
switch the index to it with one rename (filtering.rollback goes the other way).

A bad update never leaves the school unfiltered or half-updated: everything that can fail
happens before the switch, on files the Squid helpers do not read."""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import CarineError
from filtering.attempt import Outcome, attempt
from filtering.checksum import Digests, file_digests, hex_digest, published_digest, verify
from filtering.fetch import TIMEOUT, Obtained, UpdateRefused, obtain, read_text
from filtering.generations import WORK_PREFIX, Generation, Manifest, Store, utc_now
from filtering.index import Index, compile_lists
from filtering.listdiff import sanity_check
from filtering.lists import ListsInvalid
from filtering.updatelock import locked

KEEP = 3
MAX_SHRINK = 0.5


@dataclass(frozen=True)
class Options:
    """What ``carine filter update`` was asked."""

    source: str
    index: Path
    checksum: str | None = None  # hex md5 or sha256
    checksum_url: str | None = None  # a checksum file or listing (URL or local path)
    keep: int = KEEP
    max_shrink: float = MAX_SHRINK
    wait: float = 0.0  # seconds to wait for another update to finish
    allow_withdrawn: bool = False
    dns_config: Path | None = None
    timeout: float = TIMEOUT


def update(opts: Options) -> Outcome:
    """Update the index at ``opts.index`` from ``opts.source``; UpdateRefused (exit 2) leaves
    the current index untouched and serving."""
    store = Store(opts.index)
    with locked(store, opts.wait):
        return attempt(store, "update", opts.source, lambda: _update(store, opts),
                       opts.dns_config)


def _expected(opts: Options, got: Obtained) -> tuple[str, str] | None:
    """The published digest to check the archive against, and where it comes from."""
    if opts.checksum:
        return hex_digest(opts.checksum, "--checksum"), "--checksum"
    if opts.checksum_url:
        text = read_text(opts.checksum_url, timeout=opts.timeout)
        return published_digest(text, got.names, opts.checksum_url), opts.checksum_url
    return None


def _unpack(archive: Path, target: Path, source: str) -> Path:
    from filtering.archive import unpack

    try:
        return unpack(archive, target)
    except CarineError as exc:  # truncated, not a tar, unsafe member: the source's fault
        raise UpdateRefused(f"{source}: {exc.message}", exc.hint) from exc


def _refuse_withdrawn(manifest: Manifest, digest: str, allowed: bool) -> None:
    if allowed:
        return
    for entry in manifest.withdrawn:
        if digest in (entry.get("sha256"), entry.get("index_sha256")):
            raise UpdateRefused(
                f"these lists are those of generation {entry.get('name')}, rolled back on "
                f"{entry.get('at')}", "wait for the next publication, or pass --allow-withdrawn")


def _unchanged(current: Generation) -> Outcome:
    return Outcome("update", current, None, f"unchanged: the lists are those of {current.name}")


def _update(store: Store, opts: Options) -> Outcome:
    store.clean()
    manifest = store.load()
    store.adopt(manifest)
    before = store.current(manifest)
    # No current generation (no index, or a dangling link): the newest kept one is the yardstick,
    # so that a school that lost its index does not take just anything back.
    baseline = before or (manifest.generations[-1] if manifest.generations else None)
    with tempfile.TemporaryDirectory(prefix=WORK_PREFIX, dir=store.dir) as tmp:
        work = Path(tmp)
        got = obtain(opts.source, work, timeout=opts.timeout)
        digests: Digests | None = None
        checked = None
        if got.is_dir:
            if opts.checksum or opts.checksum_url:
                raise CarineError(f"{opts.source} is a folder: a checksum applies to an archive")
            tree = got.path
        else:
            digests = file_digests(got.path)
            expected = _expected(opts, got)
            if expected is not None:
                checked = verify(digests, expected[0], expected[1], opts.source)
            if before is not None and before.sha256 == digests.sha256:
                return _unchanged(before)
            _refuse_withdrawn(manifest, digests.sha256, opts.allow_withdrawn)
            tree = _unpack(got.path, work / "lists", opts.source)
        staged = work / "index.cidx"
        try:
            compile_lists(tree, staged, opts.source)
        except ListsInvalid as exc:
            raise UpdateRefused(exc.message, exc.hint) from exc
        with Index.open(staged) as fresh:
            meta = fresh.meta
        if before is not None and before.index_sha256 == meta["sha256"]:
            return _unchanged(before)
        _refuse_withdrawn(manifest, meta["sha256"], opts.allow_withdrawn)
        created = utc_now()
        sha256 = digests.sha256 if digests else None
        generation = dataclasses.replace(
            Generation.from_meta(store.new_name(created, sha256 or meta["sha256"]), meta,
                                 sha256=sha256, checked=checked, published=got.published),
            created=created.isoformat())
        sanity_check(baseline, generation, opts.max_shrink)
        staged.rename(store.path(generation))  # a new name in generations/, not the index
    store.switch(generation)
    manifest.generations.append(generation)
    pruned = store.prune(manifest, opts.keep, generation)
    store.save(manifest)
    note = f"switched to {generation.name}" + (f" (was {before.name})" if before else "")
    return Outcome("update", before, generation, note, pruned)
