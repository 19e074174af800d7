"""Per-client RADIUS shared secrets: generated once, kept 0600 in the state folder, stable across
renders; the rendered clients.conf only includes them, so no secret is ever in a rendered file."""

from __future__ import annotations

import re
import secrets
import string

from appliance.errors import CarineError
from appliance.tls import write_private
from network.radius.paths import RadiusPaths

# Letters and digits only: many switches' and APs' web forms refuse punctuation; 24 of them
# are ~143 bits, within the 32-character limit of older switches.
_ALPHABET = string.ascii_letters + string.digits
LENGTH = 24
_LINE = re.compile(r'^secret = "([A-Za-z0-9]+)"$')


def _generate() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(LENGTH))


def ensure_names(paths: RadiusPaths, names: list[str]) -> list[str]:
    """Create the secret of every client of ``names`` that has none; the names created."""
    paths.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    created = []
    for name in names:
        path = paths.secret_conf(name)
        if not path.exists():
            write_private(path, f'secret = "{_generate()}"\n'.encode())
            created.append(name)
    return created


def read(paths: RadiusPaths, client: str) -> str:
    """The secret of ``client``, as the technician types it into the device."""
    path = paths.secret_conf(client)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise CarineError(f"no RADIUS secret for {client!r} in {paths.secrets}",
                          "is the client in the site file's radius.clients? "
                          "`carine radius secret NAME --site SITE` creates it") from None
    match = _LINE.match(text)
    if match is None:
        raise CarineError(f"{path} is damaged", "remove it and ask again: a new secret is made "
                          "(then configure the device with it)")
    return match.group(1)


def renew(paths: RadiusPaths, client: str) -> str:
    """Replace the secret of ``client`` (a device was lost or its secret leaked)."""
    secret = _generate()
    write_private(paths.secret_conf(client), f'secret = "{secret}"\n'.encode())
    return secret
