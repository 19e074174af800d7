"""Client certificates for EAP-TLS: issue one per device (PKCS#12 or PEM for its owner), revoke it
by serial or name (the CA's CRL is rewritten at once). ``registry`` lists what was issued."""

from __future__ import annotations

import re
from dataclasses import asdict
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.errors import CarineError
from appliance.files import write_atomic
from appliance.tls import write_private
from network.radius import certs
from network.radius.paths import RadiusPaths
from network.radius.registry import Issued as Issued
from network.radius.registry import find as find
from network.radius.registry import load_registry as load_registry
from network.radius.registry import revoked_serials as revoked_serials
from network.radius.registry import save

CLIENT_DAYS = 730
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def issue(paths: RadiusPaths, name: str, owner: str, days: int = CLIENT_DAYS
          ) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    """A new certificate (CN = ``name``) for a device of ``owner``, recorded in the registry."""
    if not _NAME.match(name):
        raise CarineError(f"{name!r} is not a device name",
                          "lower-case letters, digits, '.', '_' or '-' (e.g. tablette-cdi-07)")
    if find(paths, name) is not None:
        raise CarineError(f"a valid certificate named {name!r} exists already",
                          "revoke it first (carine radius cert revoke NAME) or choose another name")
    key = certs.new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.USER_ID, owner)])
    cert = certs.sign(subject, key.public_key(), days, certs.load_ca(paths),
                      ExtendedKeyUsageOID.CLIENT_AUTH, [])
    rows = load_registry(paths)
    rows.append(Issued(format(cert.serial_number, "x"), name, owner,
                       cert.not_valid_after_utc.timestamp(), certs.now().timestamp()))
    save(paths, rows)
    certs.write_expiry(paths)
    return cert, key


def export(cert: x509.Certificate, key: rsa.RSAPrivateKey, ca: x509.Certificate,
           out: Path, fmt: str, password: str | None) -> list[Path]:
    """Write what the device needs into the folder ``out``: a PKCS#12 (with the CA) protected
    by ``password``, or PEM files; the files written."""
    value = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    name = value.decode() if isinstance(value, bytes) else value
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "p12":
        if not password:
            raise CarineError("a PKCS#12 file needs a password", "give --password-file FILE")
        data = pkcs12.serialize_key_and_certificates(
            str(name).encode(), key, cert, [ca],
            serialization.BestAvailableEncryption(password.encode()))
        target = out / f"{name}.p12"
        write_private(target, data)
        return [target]
    key_path, cert_path, ca_path = out / f"{name}.key", out / f"{name}.pem", out / "ca.pem"
    write_private(key_path, certs.key_bytes(key))
    write_atomic(cert_path, certs.cert_bytes(cert))
    write_atomic(ca_path, certs.cert_bytes(ca))
    return [key_path, cert_path, ca_path]


def revoke(paths: RadiusPaths, serial_or_name: str) -> Issued:
    """Revoke a certificate, rewrite the CRL at once; the entry revoked."""
    target = find(paths, serial_or_name)
    if target is None:
        raise CarineError(f"no valid certificate with serial or name {serial_or_name!r}",
                          "list them with: carine radius cert list")
    when = certs.now().timestamp()
    rows = [Issued(**{**asdict(r), "revoked_at": when}) if r.serial == target.serial else r
            for r in load_registry(paths)]
    save(paths, rows)
    certs.write_crl(paths)
    certs.write_expiry(paths)
    return next(r for r in rows if r.serial == target.serial)
