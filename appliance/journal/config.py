"""What ``carine journal`` and the journal daemon read: the rendered ``etc/carine/journal.json``,
or defaults (the system paths, one year for every kind) when there is none."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance import runtime
from appliance.errors import CarineError
from appliance.journal.purge import DEFAULT_RETENTION_DAYS
from appliance.journal.records import KINDS, JournalError
from appliance.journal.store import DEFAULT_ROOT
from appliance.runtime import RuntimeFile

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
    sessions: Path | None = None


class SyslogFile(RuntimeFile):
    host: str
    port: int
    ca_file: Path
    kinds: tuple[str, ...]


class JournalFile(RuntimeFile):
    """journal.json: the model both the renderer and the journal's readers use."""

    root: Path
    state: Path
    school: str = ""
    timezone: str = "Europe/Paris"
    retention: dict[str, int]
    """Kind -> days kept."""
    squid_log: Path | None = None
    uplink: str = "eth0"
    syslog: SyslogFile | None = None
    sessions: Path | None = None
    """The state store whose sessions name the user of a line Squid logged without one."""


def load(path: Path | None) -> JournalConfig:
    """The configuration at ``path`` (or the system one if it exists, else defaults)."""
    if path is None:
        if not SYSTEM_CONFIG.exists():
            return JournalConfig()
        path = SYSTEM_CONFIG
    try:
        doc = runtime.load(JournalFile, path, "journal")
    except CarineError as exc:
        raise JournalError(exc.message, exc.hint) from exc
    return JournalConfig(
        root=doc.root, state=doc.state, school=doc.school, timezone=doc.timezone,
        retention=dict(doc.retention), squid_log=doc.squid_log, uplink=doc.uplink,
        sessions=doc.sessions,
        syslog=None if doc.syslog is None else doc.syslog.model_dump(mode="json"))
