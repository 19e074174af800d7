"""The registry of issued client certificates (``radius/issued.json``): what was issued to
whom, until when, and what was revoked. Read by the CA's CRL, the CLI and the exporter."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from appliance.errors import CarineError
from appliance.files import write_atomic
from network.radius.paths import RadiusPaths


@dataclass(frozen=True)
class Issued:
    """One client certificate as the registry keeps it (never its key)."""

    serial: str  # hexadecimal, as `openssl x509 -serial` and FreeRADIUS print it
    name: str
    owner: str
    not_after: float
    issued_at: float
    revoked_at: float | None = None


def load_registry(paths: RadiusPaths) -> list[Issued]:
    if not paths.registry.exists():
        return []
    try:
        rows = json.loads(paths.registry.read_text(encoding="utf-8"))
        return [Issued(**row) for row in rows]
    except (ValueError, TypeError) as exc:
        raise CarineError(f"{paths.registry} is damaged: {exc}",
                          "restore it from the backup of /var/lib/carine") from exc


def save(paths: RadiusPaths, rows: list[Issued]) -> None:
    write_atomic(paths.registry, json.dumps([asdict(r) for r in rows], indent=2) + "\n", 0o600)


def find(paths: RadiusPaths, serial_or_name: str) -> Issued | None:
    """The certificate with that serial (hex, any case) or that device name, if not revoked."""
    wanted = serial_or_name.strip().lower().removeprefix("0x").replace(":", "")
    live = [r for r in load_registry(paths) if r.revoked_at is None]
    return next((r for r in live if r.serial == wanted or r.name == serial_or_name), None)


def revoked_serials(paths: RadiusPaths) -> set[str]:
    return {r.serial for r in load_registry(paths) if r.revoked_at is not None}
