"""The appliance's own certificate authority for 802.1X: the CA, the RADIUS server certificate and
the CRL that FreeRADIUS checks, created once and kept; renewed only when close to expiry.

RSA 3072 rather than EC: every supplicant (old Android, Windows, switches) accepts it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.files import write_atomic
from appliance.run import run
from appliance.tls import write_private
from network.radius.paths import RadiusPaths
from network.radius.registry import load_registry

KEY_BITS = 3072
CA_DAYS = 3650
SERVER_DAYS = 825
CRL_DAYS = 90
RENEW_BEFORE = dt.timedelta(days=30)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)


def key_bytes(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_bytes(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, school: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, school[:64]),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, key_encipherment=not ca,
                         key_cert_sign=ca, crl_sign=ca, content_commitment=False,
                         data_encipherment=False, key_agreement=False, encipher_only=False,
                         decipher_only=False)


def load_ca(paths: RadiusPaths) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return cert, key


def sign(subject: x509.Name, public: rsa.RSAPublicKey, days: int,
         issuer: tuple[x509.Certificate, rsa.RSAPrivateKey], eku: x509.ObjectIdentifier,
         names: list[str]) -> x509.Certificate:
    """A leaf certificate for ``subject`` signed by the CA ``issuer``."""
    ca_cert, ca_key = issuer
    start = now()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(public).serial_number(x509.random_serial_number())
               .not_valid_before(start - dt.timedelta(minutes=5))
               .not_valid_after(start + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(_usage(ca=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca_key.public_key()), critical=False))
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def _make_ca(paths: RadiusPaths, school: str) -> None:
    key = new_key()
    name = _name(f"CARINE 802.1X CA - {school}", school)
    start = now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start - dt.timedelta(minutes=5))
            .not_valid_after(start + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    paths.ca_key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_private(paths.ca_key, key_bytes(key))
    write_atomic(paths.ca_cert, cert_bytes(cert))


def _make_server(paths: RadiusPaths, server_name: str, school: str) -> None:
    key = new_key()
    cert = sign(_name(server_name, school), key.public_key(), SERVER_DAYS, load_ca(paths),
                ExtendedKeyUsageOID.SERVER_AUTH, [server_name])
    write_private(paths.server_key, key_bytes(key))
    write_atomic(paths.server_cert, cert_bytes(cert))


def _due(path: Path) -> bool:
    if not path.exists():
        return True
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    return cert.not_valid_after_utc - now() < RENEW_BEFORE


def ensure_authority(paths: RadiusPaths, server_name: str, school: str) -> list[str]:
    """Create what is missing (or about to expire) of the CA, server certificate and CRL, and
    refresh the expiry file; what was made. An existing CA is never replaced: every enrolled
    device trusts it."""
    made = []
    paths.root.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not paths.ca_key.exists() or not paths.ca_cert.exists():
        _make_ca(paths, school)
        made.append("ca")
    if _due(paths.server_cert) or not paths.server_key.exists():
        _make_server(paths, server_name, school)
        made.append("server")
    if _crl_due(paths):
        write_crl(paths)
        made.append("crl")
    write_expiry(paths)
    return made


def _crl_due(paths: RadiusPaths) -> bool:
    if not paths.crl.exists() or not any(paths.ca_path.glob("*.r0")):
        return True
    crl = x509.load_pem_x509_crl(paths.crl.read_bytes())
    after = crl.next_update_utc
    return after is None or after - now() < RENEW_BEFORE


def publish_ca_path(paths: RadiusPaths) -> None:
    """The CA and the CRL under their OpenSSL hash names, which ``ca_path`` looks up;
    FreeRADIUS rereads the folder every minute (ca_path_reload_interval)."""
    folder = paths.ca_path
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    (folder / "ca.pem").write_bytes(paths.ca_cert.read_bytes())
    (folder / "crl.pem").write_bytes(paths.crl.read_bytes())
    run(["openssl", "rehash", str(folder)])


def write_expiry(paths: RadiusPaths) -> dict[str, float]:
    """Expiry (epoch seconds) of the CA, the server certificate, the CRL and every valid client
    certificate, for the exporter; returns it."""
    out: dict[str, float] = {}
    for label, path in (("radius-ca", paths.ca_cert), ("radius-server", paths.server_cert)):
        if path.exists():
            out[label] = x509.load_pem_x509_certificate(
                path.read_bytes()).not_valid_after_utc.timestamp()
    if paths.crl.exists():
        crl = x509.load_pem_x509_crl(paths.crl.read_bytes())
        if crl.next_update_utc is not None:
            out["radius-crl"] = crl.next_update_utc.timestamp()
    for entry in load_registry(paths):
        if entry.revoked_at is None:
            out[f"radius-client-{entry.name}"] = entry.not_after
    write_atomic(paths.expiry, json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out


def write_crl(paths: RadiusPaths) -> None:
    """The CRL of every revoked certificate, valid CRL_DAYS, then published to ``ca_path``."""
    ca_cert, ca_key = load_ca(paths)
    start = now()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca_cert.subject)
               .last_update(start - dt.timedelta(minutes=5))
               .next_update(start + dt.timedelta(days=CRL_DAYS)))
    for row in load_registry(paths):
        if row.revoked_at is not None:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(int(row.serial, 16))
                .revocation_date(dt.datetime.fromtimestamp(row.revoked_at, dt.UTC)).build())
    crl = builder.sign(ca_key, hashes.SHA256())
    write_atomic(paths.crl, crl.public_bytes(serialization.Encoding.PEM))
    publish_ca_path(paths)
