"""The storage section of the site file (D-STO-*): which zones reach the WebDAV service, the
quotas per category and per user, who writes in class shares, antivirus and backups."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from appliance.site.base import Name, Port, Section

LOGIN = r"^[a-z][a-z0-9._-]{1,31}$"
CODE = r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$"


class Antivirus(Section):
    """ClamAV on upload (D-STO-2)."""

    enabled: bool = True
    """Scan every upload with clamd before it is stored."""
    socket: str = "/run/clamav/clamd.ctl"
    """clamd's local socket."""
    max_mb: int = Field(default=100, ge=1, le=4000)
    """Largest upload scanned (clamd's StreamMaxLength); larger uploads are refused."""


class Backup(Section):
    """Backups with borgbackup (D-STO-3): storage, configuration and journal."""

    enabled: bool = False
    """Run the daily and monthly backups."""
    repository: str | None = Field(default=None, pattern=r"^(/|ssh://)[^\s]{1,250}$")
    """A folder on a local disk (`/mnt/sauvegarde/carine`) or `ssh://user@host/path`."""
    daily_at: str = Field(default="02:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """Time of the daily incremental backup (the school's time zone)."""
    keep_daily: int = Field(default=14, ge=1, le=366)
    """Daily archives kept."""
    keep_monthly: int = Field(default=12, ge=1, le=120)
    """Monthly full archives kept."""


class Storage(Section):
    """WebDAV storage (D-STO-*)."""

    enabled: bool = False
    """Serve personal and shared spaces over WebDAV."""
    zones: tuple[Name, ...] = ()
    """Zones whose clients reach the storage; empty: every pedagogical, staff and admin zone.
    A guest zone never does."""
    port: Port = 8444
    """HTTPS port of the WebDAV service on the appliance."""
    quota_mb_pupil: int = Field(default=500, ge=0)
    """Default quota of a pupil, in MB."""
    quota_mb_teacher: int = Field(default=5000, ge=0)
    """Default quota of a teacher, in MB."""
    quota_mb_staff: int = Field(default=5000, ge=0)
    """Default quota of a staff member, in MB."""
    quota_mb: dict[Annotated[str, Field(pattern=LOGIN)], Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict)
    """Per-user quota in MB, overriding the category's (`jean.dupont: 20000`)."""
    warn_percent: int = Field(default=90, ge=1, le=100)
    """Share of the quota from which the user is warned."""
    pupils_write: tuple[Annotated[str, Field(pattern=CODE + r"|^\*$")], ...] = ()
    """Class or group codes whose pupils may write in their share (`*`: all); elsewhere they
    read only."""
    antivirus: Antivirus = Antivirus()
    """Scanning of uploads."""
    on_scanner_down: Literal["refuse"] = "refuse"
    """When clamd does not answer, uploads are refused (fail closed)."""
    backup: Backup = Backup()
    """Backups."""
