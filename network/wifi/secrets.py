"""The Wi-Fi secrets kept in the state folder (0600, never in the site file): each guest SSID's
generated passphrase, and access to each access point's RADIUS secret."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Protocol

from appliance.errors import CarineError
from appliance.files import write_atomic

# No 0/O, 1/l/I: the passphrase is read off a sheet of paper and typed on a phone.
ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_SIZE = 5, 5  # 25 characters (≥ 20, ANSSI), about 145 bits


class Secrets(Protocol):
    """What a rendered access point configuration needs to know that the site file does not."""

    def radius_secret(self, client: str) -> str: ...

    def guest_passphrase(self, ssid: str) -> str: ...


def new_passphrase() -> str:
    """A fresh guest passphrase: five groups of five characters joined by '-'."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_SIZE))
                    for _ in range(GROUPS))


class StateSecrets:
    """Secrets under ``<state>/wifi`` (guest passphrases) and the RADIUS service's own store."""

    def __init__(self, state: Path) -> None:
        self.state = state

    def passphrase_file(self, ssid: str) -> Path:
        return self.state / "wifi" / f"psk-{ssid}"

    def guest_passphrase(self, ssid: str, *, create: bool = True) -> str:
        """The passphrase of guest SSID ``ssid``, generated (0600) on first use."""
        path = self.passphrase_file(ssid)
        if path.exists():
            _check_private(path)
            return path.read_text(encoding="utf-8").strip()
        if not create:
            raise CarineError(f"no passphrase yet for the guest network {ssid}",
                              f"`carine wifi passphrase {ssid}` creates it")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        value = new_passphrase()
        write_atomic(path, value + "\n", mode=0o600)
        return value

    def rotate_passphrase(self, ssid: str) -> str:
        """Replace the passphrase of ``ssid`` (ANSSI: change it regularly)."""
        self.passphrase_file(ssid).unlink(missing_ok=True)
        return self.guest_passphrase(ssid)

    def radius_secret(self, client: str) -> str:
        """The shared secret of RADIUS client ``client`` (an access point or a group of them)."""
        from network.wifi.radius_link import radius_secret

        return radius_secret(self.state, client)


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise CarineError(f"{path} is readable by others (mode {mode:o})",
                          f"chmod 600 {path}; then rotate the secret, it may have leaked")
    if path.stat().st_uid != os.geteuid() and os.geteuid() != 0:
        raise CarineError(f"{path} belongs to another user")
