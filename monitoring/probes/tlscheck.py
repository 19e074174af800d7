"""What a TLS probe learns about a server's certificate: expiry, chain, name. When verification
fails the certificate is fetched again, unverified, so the results still say why and until when."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from ipaddress import ip_address

from cryptography import x509

# OpenSSL verify codes meaning "no chain to a trusted CA" (the others are dates, name, usage).
UNTRUSTED = {
    2,   # unable to get issuer certificate
    18,  # self-signed certificate
    19,  # self-signed certificate in chain
    20,  # unable to get local issuer certificate
    21,  # unable to verify the first certificate
    7,   # certificate signature failure
}


def client_context(ca_file: str | None) -> ssl.SSLContext:
    """A verifying client context: the system's CAs, or ``ca_file`` alone."""
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def insecure_context() -> ssl.SSLContext:
    """For fetching a certificate that failed verification (never used to send a request)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@dataclass(frozen=True)
class CertFacts:
    """What the certificate itself says, checked against the name we asked for."""

    not_after: float
    name_match: bool


def _matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard covers exactly one leftmost label (RFC 6125 §6.4.3).
        head, _, rest = host.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == host


def cert_facts(der: bytes, host: str) -> CertFacts:
    """Expiry and name match of a DER certificate for ``host``."""
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = san.get_values_for_type(x509.DNSName)
        addresses = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns_names, addresses = [], []
    try:
        match = str(ip_address(host)) in addresses
    except ValueError:
        match = any(_matches(name, host) for name in dns_names)
    return CertFacts(cert.not_valid_after_utc.timestamp(), match)


def chain_valid(error: ssl.SSLCertVerificationError) -> bool:
    """Whether verification failed for another reason than an untrusted chain."""
    return error.verify_code not in UNTRUSTED


def describe(error: BaseException) -> str:
    """One short line for the results file."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"certificate: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or error}"
    return f"TLS: {error}"
