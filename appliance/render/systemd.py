"""Write the declared units as hardened systemd units, sysusers.d and tmpfiles.d entries.

Part of the core pipeline, not a service: every unit gets the same least-privilege baseline and
relaxes only what its declaration says (user, capabilities, write paths, address families)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from appliance.render.layout import Layout
from appliance.render.templating import HEADER
from appliance.render.units import Declared, Timer, Unit, pid_file

SYSTEMD = "systemd/system"
TARGET = "carine.target"
SYSUSERS = "usr/lib/sysusers.d/carine.conf"
TMPFILES = "usr/lib/tmpfiles.d/carine.conf"
UNITS_JSON = "carine/units.json"
STORE_GROUP = "carine-state"
"""The group of the state store (state.sqlite, 0660, and its -wal/-shm): the units that write
the state folder meet in it, whatever account they run as (Squid's helpers run as proxy)."""

# Every unit: what a daemon of an appliance never needs.
BASELINE = (
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "ProtectProc=invisible",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "RemoveIPC=yes",
    "KeyringMode=private",
    "SystemCallArchitectures=native",
    "UMask=0077",
)


def quote(arg: str) -> str:
    """One argument of an Exec line: systemd expands % and $, and splits on spaces."""
    escaped = arg.replace("\\", "\\\\").replace("%", "%%").replace("$", "$$")
    if any(c in escaped for c in " \t\"';") or not escaped:
        return '"' + escaped.replace('"', '\\"') + '"'
    return escaped


def _exec(argv: Sequence[str]) -> str:
    return " ".join(quote(a) for a in argv)


def _ref(name: str) -> str:
    return name if "." in name else f"carine-{name}.service"


def service_unit(unit: Unit, timed: bool, layout: Layout) -> str:
    lines = ["[Unit]", f"Description={unit.description}"]
    if unit.after:
        lines.append("After=" + " ".join(_ref(n) for n in unit.after))
    if unit.wants:
        lines.append("Wants=" + " ".join(_ref(n) for n in unit.wants))
    if not timed:
        lines.append(f"PartOf={TARGET}")
    lines += ["", "[Service]", f"Type={'oneshot' if unit.kind == 'oneshot' else 'exec'}"]
    if unit.kind == "oneshot" and not timed:
        lines.append("RemainAfterExit=yes")
    lines.append(f"ExecStart={_exec(unit.argv)}")
    if unit.kind == "simple":
        # The main PID where the lab's supervisor also writes it: one place for the exporter.
        # "+": these two run outside the sandbox (the folder is not the daemon's to write).
        pid = quote(str(pid_file(layout.run, unit.name)))
        lines += [f"ExecStartPost=+/bin/sh -c 'echo ${{MAINPID}} > {pid}'",
                  f"ExecStopPost=+/bin/rm -f {pid}"]
    if unit.reload.kind == "signal":
        lines.append(f"ExecReload=/bin/kill -{unit.reload.signal} $MAINPID")
    elif unit.reload.kind == "command":
        lines.append(f"ExecReload={_exec(unit.reload.argv)}")
    if unit.kind == "simple" and unit.restart != "no":
        lines += [f"Restart={unit.restart}", f"RestartSec={unit.restart_delay:g}s"]
    if unit.user is not None:
        lines += [f"User={unit.user}", f"Group={unit.user}"]
    # Environment= expands specifiers (%) but not $: escape only what it reads.
    lines += ['Environment="' + f"{k}={v}".replace("%", "%%").replace('"', '\\"') + '"'
              for k, v in unit.environment]
    clock = "CAP_SYS_TIME" in unit.capabilities
    lines += [line for line in BASELINE if not (clock and line == "ProtectClock=yes")]
    if not unit.devices:
        lines += ["PrivateDevices=yes", "DevicePolicy=closed"]
    if not unit.write_execute:
        lines.append("MemoryDenyWriteExecute=yes")
    store = shares_store(unit, layout)
    if store:
        lines.append(f"SupplementaryGroups={STORE_GROUP}")
    if unit.user is not None and not unit.capabilities and not store:
        # (Not with the store: a private user namespace would map its group to nobody.)
        lines.append("PrivateUsers=yes")
    caps = " ".join(unit.capabilities)
    lines.append(f"CapabilityBoundingSet={caps}")
    if unit.user is not None:  # root holds its bounded set already; an account needs them given
        lines.append(f"AmbientCapabilities={caps}")
    lines.append("RestrictAddressFamilies=" + (" ".join(unit.address_families) or "none"))
    allowed = (*unit.system_calls, *(("@clock",) if clock else ()))
    lines.append(" ".join(("SystemCallFilter=@system-service", *allowed)))
    lines.append("SystemCallFilter=~@obsolete @mount @debug @cpu-emulation"
                 + ("" if "@privileged" in unit.system_calls else " @privileged"))
    lines.append("SystemCallErrorNumber=EPERM")
    writes = (*unit.state_dirs, *unit.shared_dirs, *unit.state_files)
    if writes:
        lines.append("ReadWritePaths=" + " ".join(quote(str(p)) for p in writes))
    if not timed:
        lines += ["", "[Install]", f"WantedBy={TARGET}"]
    return "\n".join(lines) + "\n"


def timer_unit(timer: Timer) -> str:
    lines = ["[Unit]", f"Description={timer.description}", f"PartOf={TARGET}", "",
             "[Timer]", f"OnCalendar={timer.on_calendar}",
             f"Persistent={'yes' if timer.persistent else 'no'}",
             f"Unit={_ref(timer.unit)}", "", "[Install]", f"WantedBy={TARGET}"]
    return "\n".join(lines) + "\n"


def target_unit(declared: Sequence[Declared]) -> str:
    timed = {t.unit for t in declared if isinstance(t, Timer)}
    wanted = sorted(u.unit_name for u in declared
                    if isinstance(u, Timer) or (isinstance(u, Unit) and u.name not in timed))
    lines = ["[Unit]", "Description=CARINE school appliance: every service it runs",
             "After=network-online.target", "Wants=network-online.target"]
    lines += [f"Wants={name}" for name in wanted]
    lines += ["", "[Install]", "WantedBy=multi-user.target"]
    return "\n".join(lines) + "\n"


def shares_store(unit: Unit, layout: Layout) -> bool:
    """Whether ``unit`` writes the state folder itself, where the state store lives."""
    return layout.state in unit.state_dirs


def sysusers(declared: Sequence[Declared], layout: Layout) -> str:
    units = [u for u in declared if isinstance(u, Unit)]
    users = sorted({u.user for u in units if u.user and u.user.startswith("carine-")})
    lines = ["# Dedicated accounts; packaged daemons keep their Debian accounts."]
    lines += [f'u {user} - "CARINE {user.removeprefix("carine-")}" {layout.state} -'
              for user in users]
    sharing = [u for u in units if shares_store(u, layout)]
    if sharing:
        lines += ["# The state store's group. A daemon that drops root by itself (Squid) takes",
                  "# its account's groups, not the unit's SupplementaryGroups: a member.",
                  f"g {STORE_GROUP} -"]
        lines += [f"m {name} {STORE_GROUP}"
                  for name in sorted({u.drops_to for u in sharing if u.drops_to})]
    return "\n".join(lines) + "\n"


def tmpfiles(declared: Sequence[Declared], layout: Layout) -> str:
    """The folders first: the three roots and the PID records, root's and open to traverse
    (daemons that dropped root read their part); then each unit's, its account's. Runtime
    folders are the owner's (0750), except the shared ones that other daemons read (0755)."""
    tops = (layout.state, layout.run, layout.log, pid_file(layout.run, "x").parent)
    lines: list[str] = [f"d {top} 0755 root root -" for top in tops]
    if any(shares_store(u, layout) for u in declared if isinstance(u, Unit)):
        # The state folder is its group's to write (the store's -wal and -shm are made there
        # by whichever member opens it first; setgid keeps them in the group), and the store
        # is the group's whoever made it (z: also an existing one, and its -wal and -shm).
        store = layout.state / "state.sqlite"
        lines[0] = f"d {layout.state} 2775 root {STORE_GROUP} -"
        lines += [f"f {store} 0660 root {STORE_GROUP} -",
                  f"z {store}* 0660 root {STORE_GROUP} -"]
    seen: set[Path] = set(tops)
    for unit in (u for u in declared if isinstance(u, Unit)):
        owner = unit.user or unit.drops_to or "root"
        for path in (*unit.shared_dirs, *unit.state_dirs):
            if path not in seen:
                seen.add(path)
                mode = "0755" if path in unit.shared_dirs else "0750"
                lines.append(f"d {path} {mode} {owner} {owner} -")
        for path in unit.state_files:
            if path not in seen:
                seen.add(path)
                lines.append(f"f {path} 0640 {owner} {owner} -")
    return "\n".join(lines) + "\n"


def units_json(declared: Sequence[Declared]) -> str:
    """What apply needs without parsing unit files: each unit's reload and health check."""
    doc: dict[str, object] = {}
    for u in declared:
        if isinstance(u, Unit):
            doc[u.unit_name] = {
                "kind": u.kind, "reads": [str(p) for p in u.reads],
                "reload": {"kind": u.reload.kind, "signal": u.reload.signal,
                           "argv": list(u.reload.argv)},
                "health": None if u.health is None else {
                    "kind": u.health.kind, "port": u.health.port, "host": u.health.host,
                    "url": u.health.url, "argv": list(u.health.argv), "udp": u.health.udp,
                    "timeout": u.health.timeout}}
        else:
            doc[u.unit_name] = {"kind": "timer", "unit": _ref(u.unit)}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def render_units(declared: Sequence[Declared], layout: Layout, uai: str) -> dict[Path, str]:
    """Files for every declared unit, by absolute path under ``layout``; none without units
    (an empty target, users file and units.json would only give the checks nothing to judge)."""
    if not declared:
        return {}
    timed = {t.unit for t in declared if isinstance(t, Timer)}
    files: dict[Path, str] = {}
    for u in declared:
        path = layout.etc(f"{SYSTEMD}/{u.unit_name}")
        if isinstance(u, Timer):
            files[path] = timer_unit(u)
        else:
            files[path] = service_unit(u, u.name in timed, layout)
    files[layout.etc(f"{SYSTEMD}/{TARGET}")] = target_unit(declared)
    files[layout.config / SYSUSERS] = sysusers(declared, layout)
    files[layout.config / TMPFILES] = tmpfiles(declared, layout)
    head = f"# {HEADER.format(uai=uai)}\n# From the units the services declare.\n"
    files = {path: head + text for path, text in files.items()}
    files[layout.etc(UNITS_JSON)] = units_json(declared)
    return files
