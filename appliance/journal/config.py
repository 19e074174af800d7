"""What ``carine journal`` and the journal daemon read: the rendered ``etc/carine/journal.json``,
or defaults (the system paths, one year for every kind) when there is none."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.journal.purge import DEFAULT_RETENTION_DAYS
from appliance.journal.records import KINDS, JournalError
from appliance.journal.store import DEFAULT_ROOT

SYSTEM_CONFIG = Path("/etc/carine/journal.json")


@dataclass(frozen=True)
class JournalConfig:
    root: Path = DEFAULT_ROOT
    state: Path = Path("/var/lib/carine/journal-ingest")
    school: str = ""
    timezone: str = "Europe/Paris"
    retention: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(KINDS, DEFAULT_RETENTION_DAYS))
    squid_log: Path | None = None
    uplink: str = "eth0"
    syslog: dict[str, Any] | None = None


def load(path: Path | None) -> JournalConfig:
    """The configuration at ``path`` (or the system one if it exists, else defaults)."""
    if path is None:
        if not SYSTEM_CONFIG.exists():
            return JournalConfig()
        path = SYSTEM_CONFIG
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise JournalError(f"cannot read the journal configuration {path}: {exc}",
                           "render the site again: carine render SITE --root /") from exc
    return JournalConfig(
        root=Path(doc["root"]), state=Path(doc["state"]), school=doc.get("school", ""),
        timezone=doc.get("timezone", "Europe/Paris"), retention=dict(doc["retention"]),
        squid_log=Path(doc["squid_log"]) if doc.get("squid_log") else None,
        uplink=doc.get("uplink", "eth0"), syslog=doc.get("syslog"))
