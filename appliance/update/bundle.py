"""The update bundle: one tar holding ``manifest.json`` (version and each file's sha256),
``manifest.sig`` (ed25519 over the manifest's bytes) and the files (``root.img``, ``vmlinuz``,
``initrd.img``). Verified whole against the box's key before anything is written."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from appliance.errors import CarineError

FILES = ("root.img", "vmlinuz", "initrd.img")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Manifest:
    version: str
    sha256: dict[str, str]
    sizes: dict[str, int]


def _digest(stream: IO[bytes]) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
    return h.hexdigest(), size


def make(out: Path, version: str, files: dict[str, Path], key_pem: bytes) -> None:
    """Write a signed bundle of ``files`` (named as FILES) to ``out``."""
    key = load_pem_private_key(key_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise CarineError("the update signing key must be ed25519")
    sums, sizes = {}, {}
    for name in FILES:
        with files[name].open("rb") as f:
            sums[name], sizes[name] = _digest(f)
    manifest = json.dumps({"version": version, "sha256": sums, "sizes": sizes},
                          indent=2, sort_keys=True).encode()
    (out.parent / "manifest.json").write_bytes(manifest)
    (out.parent / "manifest.sig").write_bytes(key.sign(manifest))
    partial = out.with_name(out.name + ".tmp")
    with tarfile.open(partial, "w", format=tarfile.GNU_FORMAT) as tar:
        tar.add(out.parent / "manifest.json", "manifest.json")
        tar.add(out.parent / "manifest.sig", "manifest.sig")
        for name in FILES:
            tar.add(files[name], name)
    (out.parent / "manifest.json").unlink()
    (out.parent / "manifest.sig").unlink()
    partial.rename(out)


def public_key(pem: bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise CarineError("the update key must be an ed25519 public key")
    return key


def verify(bundle: Path, key: Ed25519PublicKey) -> Manifest:
    """The bundle's manifest, once its signature and every file's digest are right; else a
    CarineError naming the problem (and nothing has been written anywhere)."""
    try:
        with tarfile.open(bundle, "r:") as tar:
            manifest, signature = (_member(tar, n).read() for n in ("manifest.json",
                                                                    "manifest.sig"))
            try:
                key.verify(signature, manifest)
            except InvalidSignature:
                raise CarineError(f"{bundle}: the signature does not match this box's update key",
                                  "use an image signed by your académie's key") from None
            doc = json.loads(manifest)
            found = Manifest(str(doc["version"]), dict(doc["sha256"]), dict(doc["sizes"]))
            for name in FILES:
                digest, _ = _digest(_member(tar, name))
                if digest != found.sha256[name]:
                    raise CarineError(f"{bundle}: {name} is damaged (its digest differs from "
                                      "the signed manifest)", "download the image again")
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        raise CarineError(f"{bundle} is not a CARINE update: {exc}") from exc
    return found


def _member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    stream = tar.extractfile(name)
    if stream is None:
        raise CarineError(f"the update has no file {name}")
    return stream


@contextmanager
def opened(bundle: Path, name: str) -> Iterator[IO[bytes]]:
    """One file of a verified bundle, as a stream."""
    with tarfile.open(bundle, "r:") as tar:
        yield _member(tar, name)
