"""The real hostapd judges a rendered configuration. hostapd has no check-only mode, so it reads
a copy whose interfaces do not exist: a file it accepts gets as far as the driver and stops
there; a file it refuses stops at "N errors found in configuration file"."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from appliance.run import run

PROBE_IF = "carine-nochk"  # no such interface: hostapd can never take a real radio here


@dataclass(frozen=True)
class Verdict:
    ok: bool
    output: str


def check_hostapd(text: str, secrets: tuple[str, ...] = ()) -> Verdict:
    """hostapd's verdict on configuration ``text`` (secrets masked in what it says)."""
    with tempfile.TemporaryDirectory(prefix="carine-hostapd-") as tmp:
        probe = _neutralised(text, Path(tmp))
        path = Path(tmp) / "hostapd.conf"
        path.write_text(probe, encoding="utf-8")
        path.chmod(0o600)
        result = run(["hostapd", str(path)], check=False, timeout=20, secrets=secrets)
    output = result.output()
    for secret in secrets:
        output = output.replace(secret, "******")
    refused = "errors found in configuration file" in output or "Line " in output
    reached_driver = any(mark in output for mark in (
        "Failed to initialize driver", "Could not read interface", "nl80211",
        "Failed to create interface", "wired"))
    return Verdict(not refused and reached_driver, _trimmed(output, path))


def _neutralised(text: str, tmp: Path) -> str:
    """The same configuration on interfaces that do not exist, its control socket in ``tmp``."""
    count = 0

    def iface(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"{match.group(1)}={PROBE_IF[:12]}{count}"

    text = re.sub(r"^(interface|bss)=.*$", iface, text, flags=re.MULTILINE)
    text = re.sub(r"^(vlan_tagged_interface|bridge)=.*$", r"\1=carine-nobr", text,
                  flags=re.MULTILINE)
    return re.sub(r"^ctrl_interface=.*$", f"ctrl_interface={tmp}/ctrl", text, flags=re.MULTILINE)


def _trimmed(output: str, path: Path) -> str:
    lines = [line for line in output.splitlines()
             if "errors found" in line or line.startswith("Line ") or "not configured" in line
             or "invalid" in line.lower()]
    return "\n".join(lines).replace(str(path), "hostapd.conf") or "configuration parsed"
