"""The update bundle and the boot entries: a bundle signed by another key or with a damaged file
is refused before anything is written; entries sort so the newest slot with tries boots; a slot
is written, grown and given an entry with three tries (e2fsprogs on files standing in for disks)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from appliance.errors import CarineError
from appliance.run import run
from appliance.update.bundle import make, public_key, verify
from appliance.update.command import update
from appliance.update.slots import booted_slot, entries, entry_text
from tests.conftest import REPO, require_tool

pytestmark = pytest.mark.unit


def keypair(folder: Path, name: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    private.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(Encoding.PEM,
                                                     PublicFormat.SubjectPublicKeyInfo))
    return private, public


def bundle(folder: Path, key: Path, root: Path | None = None) -> Path:
    files = {"root.img": root or folder / "root.img", "vmlinuz": folder / "vmlinuz",
             "initrd.img": folder / "initrd.img"}
    for name, path in files.items():
        if not path.exists():
            path.write_bytes(name.encode() * 1000)
    out = folder / "carine.update"
    make(out, "0.2.0", files, key.read_bytes())
    return out


def test_a_signed_bundle_verifies(tmp_path: Path) -> None:
    private, public = keypair(tmp_path, "builder")
    manifest = verify(bundle(tmp_path, private), public_key(public.read_bytes()))
    assert manifest.version == "0.2.0"
    assert set(manifest.sha256) == {"root.img", "vmlinuz", "initrd.img"}


def test_another_key_is_refused(tmp_path: Path) -> None:
    private, _ = keypair(tmp_path, "builder")
    _, stranger = keypair(tmp_path, "stranger")
    with pytest.raises(CarineError, match="signature does not match"):
        verify(bundle(tmp_path, private), public_key(stranger.read_bytes()))


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    private, public = keypair(tmp_path, "builder")
    good = bundle(tmp_path, private)
    bad = tmp_path / "bad.update"
    with tarfile.open(good) as src, tarfile.open(bad, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            if member.name == "vmlinuz":
                (tmp_path / "evil").write_bytes(b"evil" * 1000)
                dst.add(tmp_path / "evil", "vmlinuz")
            else:
                dst.addfile(member, data)
    with pytest.raises(CarineError, match="vmlinuz is damaged"):
        verify(bad, public_key(public.read_bytes()))


def test_entries_newest_first_and_bad_ones_known(tmp_path: Path) -> None:
    folder = tmp_path / "loader/entries"
    folder.mkdir(parents=True)
    for name in ("carine-1-a.conf", "carine-2-b+0-3.conf", "other.conf"):
        (folder / name).write_text("")
    found = entries(tmp_path)
    assert [(e.generation, e.slot, e.left) for e in found] == [(2, "b", 0), (1, "a", None)]
    assert found[0].bad and not found[1].bad


def test_the_build_and_update_write_the_same_entry() -> None:
    built = run([str(REPO / "image/entry.sh"), "1", "a", "0.1.0"]).stdout
    assert built == entry_text(1, "a", "0.1.0")
    assert booted_slot("BOOT_IMAGE=x root=PARTLABEL=carine-root-a carine.slot=a quiet") == "a"
    with pytest.raises(CarineError):
        booted_slot("root=/dev/sda1")


def test_update_writes_the_inactive_slot_with_three_tries(tmp_path: Path) -> None:
    for tool in ("mkfs.ext4", "e2fsck", "resize2fs", "debugfs"):
        require_tool(tool)
    private, public = keypair(tmp_path, "builder")
    content = tmp_path / "content"
    (content / "etc").mkdir(parents=True)
    (content / "etc/carine-version").write_text("0.2.0\n")
    root = tmp_path / "root.img"
    run(["mkfs.ext4", "-q", "-d", str(content), str(root), "4M"])
    signed = bundle(tmp_path, private, root)
    esp, parts = tmp_path / "esp", tmp_path / "parts"
    (esp / "loader/entries").mkdir(parents=True)
    (esp / "loader/entries/carine-1-a.conf").write_text(entry_text(1, "a", "0.1.0"))
    parts.mkdir()
    run(["truncate", "-s", "16M", str(parts / "carine-root-b")])
    name = update(signed, public, esp, parts, cmdline="root=PARTLABEL=carine-root-a carine.slot=a")
    assert name == "carine-2-b+3.conf"
    assert "root=PARTLABEL=carine-root-b" in (esp / "loader/entries" / name).read_text()
    assert (esp / "carine/b/vmlinuz").read_bytes() == b"vmlinuz" * 1000
    shown = run(["debugfs", "-R", "cat /etc/carine-version", str(parts / "carine-root-b")])
    assert shown.stdout == "0.2.0\n"
    size = run(["dumpe2fs", "-h", str(parts / "carine-root-b")]).stdout
    blocks = int(size.split("Block count:")[1].split()[0])
    block = int(size.split("Block size:")[1].split()[0])
    assert blocks * block == 16 << 20  # grown to the whole slot


def test_an_unsigned_update_writes_nothing(tmp_path: Path) -> None:
    private, _ = keypair(tmp_path, "builder")
    _, stranger = keypair(tmp_path, "stranger")
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "carine-root-b").write_bytes(b"\0" * 4096)
    with pytest.raises(CarineError, match="signature"):
        update(bundle(tmp_path, private), stranger, tmp_path / "esp", parts,
               cmdline="carine.slot=a")
    assert (parts / "carine-root-b").read_bytes() == b"\0" * 4096
    assert not (tmp_path / "esp").exists()
