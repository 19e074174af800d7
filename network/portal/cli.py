"""`carine devices add|list|remove` and `carine vouchers create|list`: the referent's commands
for registered devices and guest vouchers; each action is journaled (kind admin)."""

from __future__ import annotations

import argparse
import getpass
import time
from pathlib import Path
from typing import Any

from appliance import paths
from appliance.errors import CarineError
from network.portal import devices, vouchers
from network.portal.config import CONFIG, PortalConfig
from network.portal.daemon import build, voucher_key
from network.portal.keeper import Keeper


def _setup(args: argparse.Namespace) -> tuple[PortalConfig, Any]:
    config = PortalConfig.load(args.config)
    return config, build(config)


def _check_profile(config: PortalConfig, profile: str) -> None:
    if profile not in config.limits:
        raise CarineError(f"no filtering profile {profile!r}",
                          f"one of: {', '.join(sorted(config.limits))}")


def _devices_add(args: argparse.Namespace) -> int:
    config, access = _setup(args)
    _check_profile(config, args.profile)
    if args.zone is not None and args.zone not in {z.name for z in config.zones}:
        raise CarineError(f"{args.zone!r} is not a portal zone",
                          f"one of: {', '.join(z.name for z in config.zones)}")
    device = devices.add(access.conn(), mac=args.mac, name=args.name, kind=args.kind,
                         owner=args.owner, profile=args.profile, zone=args.zone, by=args.by,
                         now=time.time())
    access.events.admin(args.by, "device-add", mac=device.mac, name=device.name,
                        kind=device.kind, owner=device.owner, profile=device.profile,
                        zone=device.zone)
    print(f"registered {device.name} ({device.kind}, {device.mac}), owner {device.owner}, "
          f"profile {device.profile}")
    if not args.no_authorise:
        Keeper(access).tick()  # in at once if it holds a lease (else at its next lease)
    return 0


def _devices_list(args: argparse.Namespace) -> int:
    _config, access = _setup(args)
    found = devices.active(access.conn())
    for d in found.values():
        print(f"{d.mac}  {d.kind:8} {d.name:24} {d.owner:20} {d.profile:12} {d.zone or '-'}")
    print(f"{len(found)} device(s)")
    return 0


def _devices_remove(args: argparse.Namespace) -> int:
    _config, access = _setup(args)
    device = devices.remove(access.conn(), args.mac)
    access.events.admin(args.by, "device-remove", mac=device.mac, name=device.name)
    if not args.no_authorise:
        Keeper(access).tick()  # its session ends now
    print(f"removed {device.name} ({device.mac})")
    return 0


def _vouchers_create(args: argparse.Namespace) -> int:
    config, access = _setup(args)
    _check_profile(config, args.profile)
    now = time.time()
    batch, codes = vouchers.create(access.conn(), voucher_key(config), count=args.count,
                                   minutes=args.minutes, profile=args.profile,
                                   valid_days=args.valid_days, by=args.by, now=now)
    access.events.admin(args.by, "vouchers-create", batch=batch, count=args.count,
                        minutes=args.minutes, profile=args.profile, valid_days=args.valid_days)
    html = vouchers.sheet(config.school, codes, minutes=args.minutes, profile=args.profile,
                          valid_until=now + args.valid_days * 86400, batch=batch,
                          tz=config.timezone)
    if args.out:
        args.out.write_text(html, encoding="utf-8")
        args.out.chmod(0o600)  # the codes are as good as access: keep the sheet private
        print(f"{len(codes)} vouchers (batch {batch}) written to {args.out}")
    else:
        print(html, end="")
    return 0


def _vouchers_list(args: argparse.Namespace) -> int:
    _config, access = _setup(args)
    for row in vouchers.batches(access.conn()):
        print(f"{row['batch']}  {row['profile']:10} {row['valid_minutes']:5} min  "
              f"{row['used']}/{row['total']} used  by {row['created_by']}")
    return 0


def register(sub: Any) -> None:
    """Add `devices` and `vouchers` to the `carine` command."""
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", type=Path, default=paths.Default("etc", CONFIG),
                       help="the rendered portal.json (default %(default)s, or the lab's "
                            "with carine --lab)")
        p.add_argument("--by", default=getpass.getuser(), help="who acts (journaled)")

    dev = sub.add_parser("devices", help="registered devices, let in without a login")
    dsub = dev.add_subparsers(dest="devices_command", required=True)
    p = dsub.add_parser("add", help="register a device by its MAC")
    p.add_argument("mac")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=devices.KINDS, default="other")
    p.add_argument("--owner", required=True, help="who answers for it (a person or a room)")
    p.add_argument("--profile", required=True, help="filtering profile of its traffic")
    p.add_argument("--zone", help="the portal zone it lives in (default: any)")
    p.add_argument("--no-authorise", action="store_true", help="do not touch the firewall now")
    common(p)
    p.set_defaults(func=_devices_add)
    p = dsub.add_parser("list", help="the registered devices")
    common(p)
    p.set_defaults(func=_devices_list)
    p = dsub.add_parser("remove", help="unregister a device (its session ends)")
    p.add_argument("mac")
    p.add_argument("--no-authorise", action="store_true", help="do not touch the firewall now")
    common(p)
    p.set_defaults(func=_devices_remove)

    vou = sub.add_parser("vouchers", help="guest vouchers, each usable once")
    vsub = vou.add_subparsers(dest="vouchers_command", required=True)
    p = vsub.add_parser("create", help="make codes and print their sheet (HTML)")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--minutes", type=int, required=True, help="session length once used")
    p.add_argument("--profile", default="invite")
    p.add_argument("--valid-days", type=int, default=7, help="to be used within (days)")
    p.add_argument("--out", type=Path, help="write the sheet here (default: stdout)")
    common(p)
    p.set_defaults(func=_vouchers_create)
    p = vsub.add_parser("list", help="batches and how many codes were used")
    common(p)
    p.set_defaults(func=_vouchers_list)
