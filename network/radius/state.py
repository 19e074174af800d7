"""Make the RADIUS state a rendered configuration refers to: client secrets, the CA, the server
certificate and the CRL. Idempotent: what exists is kept (apply, lab up and check all call it)."""

from __future__ import annotations

from pathlib import Path

from appliance.directory.accounts import keep_nt_hashes, keeps_nt_hashes
from appliance.directory.schema import open_directory
from appliance.render.layout import Layout
from network.radius import certs, secrets
from network.radius.paths import CONFIG_DIR, LOCAL_CLIENT, RadiusPaths
from network.radius.settings import Settings


def rendered_settings(layout: Layout) -> Settings:
    """The settings rendered into ``layout``'s FreeRADIUS folder."""
    return Settings.load(layout.etc(CONFIG_DIR) / "carine.json")


def ensure_state(layout: Layout, settings: Settings | None = None) -> list[str]:
    """Create whatever is missing; the names of what was made (``secret:NAME``, ``ca`` ...)."""
    settings = settings if settings is not None else rendered_settings(layout)
    paths = RadiusPaths(Path(settings.radius_state))
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = [f"secret:{name}" for name in secrets.ensure_names(
        paths, [LOCAL_CLIENT, *settings.clients])]
    made += certs.ensure_authority(paths, settings.server_name, settings.school)
    _directory_follows(Path(settings.state), settings.nt_hash)
    return made


def _directory_follows(store: Path, nt_hash: bool) -> None:
    """Make every password writer keep (or forget) NT hashes as the site's PEAP setting says."""
    conn = open_directory(store)
    try:
        if keeps_nt_hashes(conn) != nt_hash:
            keep_nt_hashes(conn, nt_hash)
    finally:
        conn.close()
