"""dnsmasq's lease hook (``--dhcp-script``): when a client gets or renews an address, open the
802.1X sessions its access point's Accounting-Start left waiting for it (issue 12, point 1).

dnsmasq runs it as ``carine-lease-hook add|old|del MAC IP [HOSTNAME]``, one event after the
other; the backend's settings (``carine.json``) are named by ``CARINE_RADIUS_SETTINGS`` in the
dnsmasq unit's environment."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path

SETTINGS_ENV = "CARINE_RADIUS_SETTINGS"
PROGRAM = "carine-lease-hook"


def waiting(state_db: Path, mac: str) -> bool:
    """Whether a start waits for ``mac`` (read-only; no store or table yet: nothing waits)."""
    try:
        conn = sqlite3.connect(f"{state_db.as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error:
        return False
    try:
        return conn.execute("SELECT 1 FROM radius_pending WHERE mac = ? LIMIT 1",
                            (mac.lower(),)).fetchone() is not None
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def lease_event(settings_path: Path, action: str, mac: str, ip: str) -> list[str]:
    """Open what waited for ``mac`` now that it holds ``ip``; the logins opened. A release
    (``del``) opens nothing: Stop or the idle check closes the session."""
    if action not in ("add", "old"):
        return []
    state = json.loads(settings_path.read_text(encoding="utf-8"))["state"]
    if not waiting(Path(state), mac):
        return []
    # Imported only now: dnsmasq runs one event at a time, and at 8:00 hundreds of leases
    # queue behind each other; most wait for nothing and end above in a few milliseconds
    # (the backend's imports cost ~0.4 s).
    from network.radius.accounting import Accounting
    from network.radius.context import Context
    from network.radius.settings import Settings

    ctx = Context(Settings.load(settings_path))
    try:
        return Accounting(ctx).bind_lease(mac, ip)
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 3:  # "init" and "tftp" events: nothing to do for us
        return 0
    action, mac, ip = args[:3]
    where = os.environ.get(SETTINGS_ENV)
    if not where:
        print(f"{PROGRAM}: {SETTINGS_ENV} is not set: sessions wait for an interim update",
              file=sys.stderr)
        return 1
    try:
        opened = lease_event(Path(where), action, mac, ip)
    except Exception as exc:  # dnsmasq only logs us: say what failed, never hang it
        print(f"{PROGRAM}: {action} {mac} {ip}: {exc}", file=sys.stderr)
        return 1
    if opened:
        print(f"{PROGRAM}: {ip} ({mac}): 802.1X session opened for {', '.join(opened)}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
