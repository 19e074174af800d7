"""carine-storage: the WebDAV service served by cheroot over HTTPS with the appliance's
certificate, on the addresses of the zones the site opens it to."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from appliance import wsgi
from appliance.errors import CarineError
from appliance.tls import write_self_signed
from storage import metrics
from storage.app import Storage
from storage.config import StorageConfig

log = logging.getLogger("carine.storage")
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8


def _bounded_malloc() -> None:
    """Keep big buffers (argon2's 19 MiB, upload chunks) out of glibc's arenas: allocated by
    mmap and given back when freed, so the resident size follows the work being done (a fixed
    threshold also stops glibc from raising it after the first big free)."""
    import ctypes
    import ctypes.util
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)
        libc.mallopt(M_ARENA_MAX, 2)
    except (OSError, AttributeError):
        log.warning("cannot tune malloc: memory may grow under load")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="carine-storage", description=__doc__)
    p.add_argument("--config", type=Path, required=True, help="the rendered storage.json")
    p.add_argument("--bind", action="append", help="address to listen on (default: the "
                   "config's); repeatable")
    p.add_argument("--port", type=int, help="default: the config's")
    p.add_argument("--threads", type=int, default=24, help="worker threads (default 24)")
    p.add_argument("--clamd-socket", help="clamd's socket (default: the config's); the lab "
                   "runs its own clamd with a local signature set")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="carine-storage[%(process)d] %(levelname)s %(message)s")
    _bounded_malloc()
    try:
        cfg = StorageConfig.load(args.config)
        if args.clamd_socket:
            cfg = cfg.model_copy(update={"clamd_socket": args.clamd_socket})
        if not cfg.tls.exists():
            cfg.tls.parent.mkdir(parents=True, exist_ok=True)
            write_self_signed(cfg.tls, cfg.hostname)
        storage = Storage(cfg)
        if cfg.antivirus:
            from storage.antivirus import Scanner
            storage.scanner = Scanner(cfg.clamd_socket, cfg.scan_max_bytes, storage.counters)
        metrics.keep_writing(storage, cfg.root.parent / metrics.SNAPSHOT, threading.Event())
        binds = args.bind or list(cfg.listen)
        if not binds:
            raise CarineError("no zone reaches the storage: nowhere to listen",
                              "name the zones under storage.zones")
        wsgi.serve(storage.wsgi(), binds[0], args.port or cfg.port, tls=cfg.tls,
                   also=binds[1:], threads=args.threads)
    except CarineError as exc:
        log.error("%s%s", exc.message, f" (hint: {exc.hint})" if exc.hint else "")
        return 1
    except (OSError, ValueError) as exc:
        log.error("cannot start the storage: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
