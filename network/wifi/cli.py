"""``carine wifi``: render an access point's hostapd.conf, print a vendor AP's settings sheet,
show guest passphrases and the appliance's SSH key, switch radios, run the radio scheduler."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from appliance import paths
from appliance.clock import format_local
from appliance.errors import CarineError
from appliance.files import write_atomic
from appliance.journal import Journal
from appliance.journal.config import load as journal_config
from appliance.site import Site, load_site
from appliance.state import STATE_FILE, connect
from network.wifi import store
from network.wifi.hostapd import CTRL_DIR, render_ap, render_wired
from network.wifi.remote import client_key, public_line
from network.wifi.secrets import StateSecrets
from network.wifi.sheet import render_sheet
from network.wifi.switch import Outcome, Radios, control_factory

log = logging.getLogger("carine.wifi")


def _site(args: argparse.Namespace) -> Site:
    return load_site(args.site)


def _render_ap(args: argparse.Namespace) -> int:
    secrets = StateSecrets(args.state)
    if args.wired:
        text = render_wired(_site(args), args.name, secrets, args.wired, args.ctrl_dir)
    else:
        text = render_ap(_site(args), args.name, secrets, args.ctrl_dir)
    if args.out is None:
        print(text, end="")
    else:
        write_atomic(args.out, text, mode=0o600)  # it holds the RADIUS secret
        print(f"wrote {args.out} (0600)")
    return 0


def _sheet(args: argparse.Namespace) -> int:
    secrets = StateSecrets(args.state) if args.with_secrets else None
    write_atomic(args.out, render_sheet(_site(args), args.name, secrets),
                 mode=0o600 if args.with_secrets else 0o644)
    print(f"wrote {args.out}{' (with secrets, 0600)' if args.with_secrets else ''}")
    return 0


def _passphrase(args: argparse.Namespace) -> int:
    site = _site(args)
    ssid = next((s for s in site.wifi.ssids if s.name == args.ssid), None)
    if ssid is None or ssid.security != "guest-psk":
        raise CarineError(f"{args.ssid!r} is no guest-psk network of the site")
    secrets = StateSecrets(args.state)
    value = secrets.rotate_passphrase(args.ssid) if args.rotate else \
        secrets.guest_passphrase(args.ssid)
    print(value)
    if args.rotate:
        print("new passphrase: render and reload the access points, update the vendor ones")
    return 0


def _ssh_key(args: argparse.Namespace) -> int:
    print(public_line(client_key(args.state / "wifi" / "ssh")))
    return 0


def _local(specs: list[str]) -> dict[str, tuple[Path, str]]:
    out = {}
    for spec in specs:
        name, _, where = spec.partition("=")
        folder, _, interface = where.rpartition(":")
        if not name or not folder or not interface:
            raise CarineError(f"--local {spec!r}: expected AP=CTRL_DIR:INTERFACE")
        out[name] = (Path(folder), interface)
    return out


def _radios(args: argparse.Namespace) -> Radios:
    site = _site(args)
    conn = connect(args.state / STATE_FILE)
    where = paths.of(args)
    journal = Journal.open(journal_config(
        args.journal_config or (where.etc("carine/journal.json") if where.lab else None)).root)
    # The lab's access point answers on a local control socket, not over SSH.
    local = _local(args.local or where.local_aps())
    return Radios(site, conn, journal, control_factory(args.state, local))


def _when(at: datetime, tz: ZoneInfo) -> str:
    """A time as ``--until`` reads it: the school's local time, its offset shown."""
    return format_local(at, tz, offset=True)


def _print(outcomes: list[Outcome], tz: ZoneInfo) -> None:
    for line in outcome_lines(outcomes, tz):
        print(line)


def outcome_lines(outcomes: list[Outcome], tz: ZoneInfo) -> list[str]:
    lines = []
    for o in outcomes:
        until = f" until {_when(o.state.until, tz)}" if o.state.until else ""
        done = "applied" if o.applied else f"NOT applied: {o.error}"
        lines.append(f"{o.state.ap} ({o.room}): radio {'on' if o.state.on else 'off'} "
                     f"({o.state.reason}{until}, by {o.state.by}) — {done}")
    return lines


def _radio(args: argparse.Namespace) -> int:
    radios = _radios(args)
    by = args.by or os.environ.get("SUDO_USER") or getpass.getuser()
    outcomes = radios.order(radios.select(args.ap, args.room), args.state_word == "on",
                            args.until, by)
    _print(outcomes, radios.tz)
    return 0 if all(o.applied for o in outcomes) else 1


def _status(args: argparse.Namespace) -> int:
    for line in status_lines(_radios(args), args.history):
        print(line)
    return 0


def status_lines(radios: Radios, history: int = 0) -> list[str]:
    """What ``carine wifi status`` prints: times local to the school, as ``--until`` reads
    them, with their offset."""
    lines = []
    states = store.load_all(radios.conn)
    for ap in radios.site.wifi.access_points:
        s = states.get(ap.name)
        if s is None:
            lines.append(f"{ap.name:12} {ap.room:12} (no decision yet)")
            continue
        until = f" until {_when(s.until, radios.tz)}" if s.until else ""
        lines.append(f"{ap.name:12} {ap.room:12} {'on ' if s.on else 'off'} {s.reason}{until} "
                     f"by {s.by} since {_when(s.since, radios.tz)}")
    if history:
        for row in store.history(radios.conn, limit=history):
            at = _when(datetime.fromisoformat(row["at"]), radios.tz)
            lines.append(f"  {at} {row['ap']} {'on' if row['radio_on'] else 'off'} "
                         f"{row['reason']} by {row['by']}"
                         f"{'' if row['applied'] else ' (not applied: ' + str(row['error']) + ')'}")
    return lines


def _scheduler(args: argparse.Namespace) -> int:
    radios = _radios(args)
    seen = args.site.stat().st_mtime_ns
    while True:
        try:
            if args.site.stat().st_mtime_ns != seen:  # a new site: its schedules from now on
                seen = args.site.stat().st_mtime_ns
                radios.site = _site(args)
                log.warning("site file changed: schedules reloaded")
            _print(radios.tick(), radios.tz)
        except CarineError as exc:  # one bad round must not stop the schedules
            log.error("scheduler round failed: %s", exc.message)
        if args.once:
            return 0
        time.sleep(args.interval - time.time() % args.interval)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", type=Path, default=paths.Default("site"),
                   help="the site file (default %(default)s, or the lab's with carine --lab)")
    p.add_argument("--state", type=Path, default=paths.Default("state"),
                   help="the appliance's state folder: secrets, state store (default "
                        "%(default)s)")


def _switching(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--journal-config", type=Path, default=None,
                   help="the rendered journal.json (default: the system's)")
    p.add_argument("--local", action="append", default=[], metavar="AP=CTRL_DIR:INTERFACE",
                   help="reach this AP's hostapd through a local control socket (not SSH)")


def register(sub: Any) -> None:
    top = sub.add_parser("wifi", help="access points, radio schedules")
    wifi = top.add_subparsers(dest="wifi_command", required=True)
    p = wifi.add_parser("render-ap", help="hostapd.conf of a linux access point")
    p.add_argument("name")
    p.add_argument("--out", type=Path)
    p.add_argument("--ctrl-dir", type=Path, default=CTRL_DIR,
                   help="hostapd's control socket folder on the access point")
    p.add_argument("--wired", metavar="INTERFACE",
                   help="a wired 802.1X authenticator on INTERFACE instead (the lab's)")
    _common(p)
    p.set_defaults(func=_render_ap)
    p = wifi.add_parser("sheet", help="printable settings sheet of an access point (HTML)")
    p.add_argument("name")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--with-secrets", action="store_true", help="print the secrets themselves")
    _common(p)
    p.set_defaults(func=_sheet)
    p = wifi.add_parser("passphrase", help="show (or --rotate) a guest network's passphrase")
    p.add_argument("ssid")
    p.add_argument("--rotate", action="store_true")
    _common(p)
    p.set_defaults(func=_passphrase)
    p = wifi.add_parser("ssh-key", help="the public key to authorise on linux access points")
    _common(p)
    p.set_defaults(func=_ssh_key)
    p = wifi.add_parser("radio", help="switch radios on or off by hand")
    p.add_argument("state_word", choices=("on", "off"))
    p.add_argument("ap", nargs="*", help="access point names")
    p.add_argument("--room", help="every access point of this room")
    p.add_argument("--until", help="HH:MM local time; default: the schedule's next change")
    p.add_argument("--by", help="who asks (default: the logged-in user)")
    _switching(p)
    p.set_defaults(func=_radio)
    p = wifi.add_parser("status", help="radio states and latest changes")
    p.add_argument("--history", type=int, default=0, metavar="N")
    _switching(p)
    p.set_defaults(func=_status)
    p = wifi.add_parser("scheduler", help="apply schedules and inactivity every minute")
    p.add_argument("--interval", type=float, default=60.0)
    p.add_argument("--once", action="store_true")
    _switching(p)
    p.set_defaults(func=_scheduler)
