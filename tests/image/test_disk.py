"""The disk image of make image, read without booting it: GPT with the EFI partition (systemd-boot
and slot A's entry), root slots A (filled) and B (empty), the data partition; no secret inside, root
locked, SSH by key only, the .deb installed and CARINE's units enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.image.disk import esp_cat, esp_ls, ext4_cat, ext4_ls, partitions

pytestmark = pytest.mark.image

ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
ROOT_X86_64 = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709"


def test_gpt_has_esp_two_root_slots_and_data(image: Path) -> None:
    parts = partitions(image)
    assert list(parts) == ["carine-esp", "carine-root-a", "carine-root-b", "carine-data"]
    assert parts["carine-esp"].type == ESP
    assert parts["carine-root-a"].type == parts["carine-root-b"].type == ROOT_X86_64
    assert parts["carine-root-a"].size == parts["carine-root-b"].size


def test_esp_boots_slot_a_with_systemd_boot(image: Path) -> None:
    esp = partitions(image)["carine-esp"]
    assert "BOOTX64.EFI" in esp_ls(image, esp, "/EFI/BOOT")
    assert esp_ls(image, esp, "/loader/entries") == ["carine-1-a.conf"]
    entry = esp_cat(image, esp, "/loader/entries/carine-1-a.conf")
    assert "root=PARTLABEL=carine-root-a" in entry
    assert "editor no" in esp_cat(image, esp, "/loader/loader.conf")


def test_slot_a_is_filled_and_slot_b_empty(image: Path) -> None:
    parts = partitions(image)
    assert "carine" in ext4_ls(image, parts["carine-root-a"], "/usr/bin")
    with image.open("rb") as disk:
        disk.seek(parts["carine-root-b"].start)
        assert disk.read(1 << 20) == bytes(1 << 20)  # no file system: zeros


def test_no_secret_and_no_identity_inside(image: Path) -> None:
    root = partitions(image)["carine-root-a"]
    assert not [n for n in ext4_ls(image, root, "/etc/ssh") if n.startswith("ssh_host_")]
    assert ext4_cat(image, root, "/etc/machine-id") == ""
    assert "random-seed" not in ext4_ls(image, root, "/var/lib/systemd")
    assert ext4_ls(image, root, "/var/lib/carine") == []  # the data partition's mount point


def test_root_locked_and_ssh_by_key_only(image: Path) -> None:
    root = partitions(image)["carine-root-a"]
    shadow = ext4_cat(image, root, "/etc/shadow")
    assert shadow.startswith("root:!")
    sshd = ext4_cat(image, root, "/etc/ssh/sshd_config.d/carine.conf")
    assert "PermitRootLogin no" in sshd and "PasswordAuthentication no" in sshd


def test_deb_installed_and_units_enabled(image: Path) -> None:
    root = partitions(image)["carine-root-a"]
    status = ext4_cat(image, root, "/var/lib/dpkg/status")
    assert "Package: carine\nStatus: install ok installed" in status
    assert "carine-ssh-keygen.service" in ext4_ls(image, root,
                                                  "/etc/systemd/system/ssh.service.wants")
    fstab = ext4_cat(image, root, "/etc/fstab")
    assert "PARTLABEL=carine-data  /var/lib/carine" in fstab
