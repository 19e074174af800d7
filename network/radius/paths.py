"""Where RADIUS keeps its state: certificates, the CA, the CRL, client secrets, the registry of
issued certificates, all under ``<state>/radius`` and kept across renders and applies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from appliance.render.layout import Layout

CONFIG_DIR = "carine/freeradius"
"""The rendered FreeRADIUS configuration folder, under the layout's etc."""


@dataclass(frozen=True)
class RadiusPaths:
    """The files of ``<state>/radius``: private keys and secrets 0600, their folders 0700."""

    root: Path

    @classmethod
    def of(cls, layout: Layout) -> RadiusPaths:
        return cls(layout.state / "radius")

    @property
    def ca_key(self) -> Path:
        return self.root / "ca" / "ca.key"

    @property
    def ca_cert(self) -> Path:
        return self.root / "tls" / "ca.pem"

    @property
    def server_key(self) -> Path:
        return self.root / "tls" / "server.key"

    @property
    def server_cert(self) -> Path:
        return self.root / "tls" / "server.pem"

    @property
    def ca_path(self) -> Path:
        """The CA and its CRL under OpenSSL hash names (FreeRADIUS's ``ca_path``)."""
        return self.root / "ca-path"

    @property
    def crl(self) -> Path:
        return self.root / "tls" / "crl.pem"

    @property
    def registry(self) -> Path:
        """Issued client certificates: serial, name, owner, expiry, revocation."""
        return self.root / "certificates.json"

    @property
    def expiry(self) -> Path:
        """Expiry dates for the exporter (carine_certificate_expiry_timestamp_seconds)."""
        return self.root / "expiry.json"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    def secret_conf(self, client: str) -> Path:
        """The ``secret = ...`` line of one client, included by clients.conf."""
        return self.secrets / f"{client}.conf"


LOCAL_CLIENT = "_local"
"""The appliance's own client on 127.0.0.1 (status checks, tests); never a site client name."""
