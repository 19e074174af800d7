"""The storage daemon's runtime configuration (storage.json): one pydantic model, written by the
renderer and read by the daemon through the same codec, so neither parses a dict by hand."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from appliance.errors import CarineError

MB = 1_000_000


class Quotas(BaseModel):
    """Quotas in bytes: per category (pupil, teacher, staff) and per login."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    pupil: int
    teacher: int
    staff: int
    users: dict[str, int] = Field(default_factory=dict)
    warn_percent: int = 90

    def of(self, login: str, category: str) -> int:
        """The quota of ``login`` (its own if the site gives one, else its category's)."""
        if login in self.users:
            return self.users[login]
        return int(getattr(self, category, self.pupil))


class StorageConfig(BaseModel):
    """What carine-storage needs: where to listen, the tree, the store, who is who."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    listen: tuple[str, ...]
    port: int
    root: Path
    """The storage tree (homes, shares, drop boxes) on disk."""
    store: Path
    """The state store (directory, rights, usage)."""
    tls: Path
    """The appliance's certificate and key (one PEM, 0600)."""
    hostname: str
    profiles: dict[str, str]
    """Profile -> category (pupil, teacher, staff), from the site's directory section."""
    quotas: Quotas
    pupils_write: tuple[str, ...] = ()
    lockout_attempts: int = 5
    lockout_minutes: int = 15
    antivirus: bool = True
    clamd_socket: str = "/run/clamav/clamd.ctl"
    scan_max_bytes: int = 100 * MB
    realm: str = "CARINE"

    def dump(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    @classmethod
    def load(cls, path: Path) -> StorageConfig:
        try:
            return cls.model_validate_json(path.read_bytes())
        except OSError as exc:
            raise CarineError(f"cannot read {path}: {exc}", "render the site again") from exc
        except ValidationError as exc:
            raise CarineError(f"{path} is not a storage configuration: {exc}",
                              "render the site again (carine render)") from exc
