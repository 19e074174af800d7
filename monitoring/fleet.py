"""Prometheus file_sd target lists from the académie's Ansible inventory of schools: every host
checked first (one bad host and nothing is written), then one JSON file per group."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from appliance.errors import CarineError
from monitoring.inventory import Host

DEFAULT_PORT = 9108
TARGET_LABELS = ("uai", "school", "group", "academie")
"""Labels every target carries; the alerts and dashboards rely on them."""
RESERVED = (*TARGET_LABELS, "job", "instance")
LABEL_PREFIX = "carine_label_"

UAI = re.compile(r"^\d{7}[A-Z]$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
GROUP_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class FleetInvalid(CarineError):
    """Hosts that cannot be supervised as they are written: nothing is written."""

    exit_code = 2

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        hosts = len({host for host, _ in problems})
        lines = [f"{source}: {hosts} bad host(s)"]
        lines += [f"  - {host}: {reason}" for host, reason in problems]
        super().__init__("\n".join(lines), "fix every host listed; nothing was written")
        self.problems = problems


@dataclass(frozen=True)
class Target:
    """One appliance to scrape: its file (group), address and labels."""

    host: str
    group: str
    address: str
    labels: dict[str, str]


def fleet_targets(hosts: list[Host], source: str) -> list[Target]:
    """Every host as a target, sorted by group and host; FleetInvalid lists every problem."""
    checked = [_check(host) for host in sorted(hosts, key=lambda h: h.name)]
    problems = [(c.host, reason) for c in checked for reason in c.reasons]
    # Clashes among every host whose value is valid, even if the host is wrong otherwise.
    problems += _clashes(checked, "uai", "carine_uai")
    problems += _clashes(checked, "address", "target")
    if problems:
        order = {c.host: i for i, c in enumerate(checked)}
        raise FleetInvalid(source, sorted(problems, key=lambda p: order[p[0]]))
    targets = [c.target for c in checked if c.target is not None]
    return sorted(targets, key=lambda t: (t.group, t.host))


@dataclass(frozen=True)
class _Checked:
    host: str
    reasons: list[str]
    uai: str | None
    address: str | None
    target: Target | None


def _check(host: Host) -> _Checked:
    v = host.vars
    reasons: list[str] = []
    group = _group(host, reasons)
    uai = _text(v.get("carine_uai"))
    if uai is None:
        reasons.append("no carine_uai")
    elif not UAI.match(uai):
        reasons.append(f"carine_uai {uai!r} is not a UAI: 7 digits then a capital letter, "
                       "e.g. 0691234X")
        uai = None
    academie = _text(v.get("carine_academie"))
    if not academie:
        reasons.append("no carine_academie (set it once, in the vars of all)")
    school = _text(v.get("carine_school", host.name)) or host.name
    address = _address(_text(v.get("ansible_host", host.name)) or "", reasons)
    port = _port(v.get("carine_metrics_port", DEFAULT_PORT), reasons)
    where = None if address is None or port is None else f"{address}:{port}"
    labels = _extra_labels(v, reasons)
    if reasons or uai is None or academie is None or where is None:
        return _Checked(host.name, reasons, uai, where, None)
    labels.update(uai=uai, school=school, group=group, academie=academie)
    target = Target(host.name, group, where, dict(sorted(labels.items())))
    return _Checked(host.name, reasons, uai, where, target)


def _group(host: Host, reasons: list[str]) -> str:
    chosen = _text(host.vars.get("carine_group"))
    if chosen is None:
        if len(host.groups) > 1:
            reasons.append(f"listed in groups {', '.join(host.groups)}: set carine_group to the "
                           "one whose file lists it (Prometheus would scrape it twice)")
        chosen = host.groups[0]
    if not GROUP_NAME.match(chosen):
        reasons.append(f"group {chosen!r} cannot name a file: letters, digits, _ . -")
    return chosen


def _text(value: Any) -> str | None:
    """A scalar variable as text (INI gives text, YAML may give numbers); None if absent."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _address(text: str, reasons: list[str]) -> str | None:
    """An IP address (IPv6 in brackets, as targets need) or a host name."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        labels = text.rstrip(".").split(".")
        if text and all(DNS_LABEL.match(x) for x in labels) and not labels[-1].isdigit():
            return text
        reasons.append(f"ansible_host {text!r} is neither an IP address nor a host name")
        return None
    return f"[{ip}]" if ip.version == 6 else str(ip)


def _port(value: Any, reasons: list[str]) -> int | None:
    text = _text(value) or ""
    if isinstance(value, bool) or not text.isdigit() or not 1 <= int(text) <= 65535:
        reasons.append(f"carine_metrics_port {value!r} is not a port (1-65535)")
        return None
    return int(text)


def _extra_labels(v: dict[str, Any], reasons: list[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for key in sorted(k for k in v if k.startswith(LABEL_PREFIX)):
        name, value = key.removeprefix(LABEL_PREFIX), _text(v[key])
        if not LABEL_NAME.match(name) or name.startswith("__"):
            reasons.append(f"{key}: {name!r} is not a Prometheus label name")
        elif name in RESERVED:
            reasons.append(f"{key}: the label {name!r} is reserved (CARINE or Prometheus "
                           "sets it)")
        elif value is None:
            reasons.append(f"{key} has no value (a label is one text)")
        else:
            labels[name] = value
    return labels


def _clashes(checked: list[_Checked], what: str, shown: str) -> list[tuple[str, str]]:
    """Two schools with one UAI, or one address, would merge their series and alerts."""
    values = {c.host: getattr(c, what) for c in checked if getattr(c, what) is not None}
    counts = Counter(values.values())
    problems = []
    for host, value in values.items():
        if counts[value] > 1:
            others = ", ".join(o for o, v in values.items() if v == value and o != host)
            problems.append((host, f"{shown} {value} is also the {what} of {others}"))
    return problems


def file_sd(targets: list[Target]) -> dict[str, list[dict[str, Any]]]:
    """The file_sd content of each group: one target group per school (their labels differ)."""
    files: dict[str, list[dict[str, Any]]] = {}
    for t in targets:
        files.setdefault(t.group, []).append({"targets": [t.address], "labels": t.labels})
    return files
