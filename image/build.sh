#!/usr/bin/env bash
# The flashable disk dist/carine-<version>.img from a carine .deb: GPT with an EFI partition
# (systemd-boot, filled by mcopy: no vfat mount), root slots A (filled) and B (empty), and a data
# partition for /var/lib/carine. Nothing is mounted but /proc of the chroot. Prints the path last.
# Usage: image/build.sh dist/carine_<version>_amd64.deb [OUT.img]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
deb=$(realpath "$1")
version=$(dpkg-deb -f "$deb" Version)
out=${2:-$here/../dist/carine-$version.img}
# Fixed sizes (MiB): an update writes a slot of exactly this size, so they are part of the format.
esp_mib=256 slot_mib=2048 data_mib=512
start=$(date +%s)
say() { echo "image: $* ($(( $(date +%s) - start )) s)" >&2; }

root_tar=$("$here/bootstrap.sh")
work=$(mktemp -d /var/tmp/carine-image.XXXXXX)
root=$work/root
cleanup() { umount -l "$root/proc" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$root"
tar -C "$root" --numeric-owner --xattrs -xf "$root_tar"
say "Debian 12 root unpacked from $root_tar"

# The .deb, installed the way a technician would (its dependencies are in the cached root).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"   # no daemon starts in the chroot
chmod 755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
mount -t proc proc "$root/proc"
chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "/tmp/$(basename "$deb")" >&2
umount "$root/proc"
say "carine $version installed"

cp -a "$here/rootfs/." "$root/"
echo carine >"$root/etc/hostname"
systemctl --root="$root" enable carine-ssh-keygen.service ssh.service systemd-networkd.service \
  carine-health.service >&2
# CARINE runs its own squid, freeradius, chronyd (carine-*.service); Debian's copies stay off.
systemctl --root="$root" disable squid.service freeradius.service chrony.service >&2
# tty1 is the box's screen (first boot's messages, then its state); logins are on tty2 and SSH.
systemctl --root="$root" mask getty@tty1.service >&2
for unit in carine-firstboot.service carine.target; do
  if [ -e "$root/usr/lib/systemd/system/$unit" ] || [ -e "$root/etc/systemd/system/$unit" ]; then
    systemctl --root="$root" enable "$unit" >&2
  fi
done
# Updates are checked against this builder's ed25519 key; only its public half goes inside.
signing=${CARINE_SIGNING_KEY:-/var/cache/carine/keys/update-signing.pem}
if [ ! -f "$signing" ]; then
  mkdir -p -m 700 "$(dirname "$signing")"
  (umask 077 && openssl genpkey -algorithm ed25519 -out "$signing")
fi
mkdir -p "$root/usr/share/carine"
openssl pkey -in "$signing" -pubout -out "$root/usr/share/carine/update-key.pem"

# No secret and no identity in the image: every box makes its own at first boot.
usermod -R "$root" -L root
rm -f "$root"/etc/ssh/ssh_host_* "$root/var/lib/systemd/random-seed" "$root/usr/sbin/policy-rc.d" \
  "$root/tmp/$(basename "$deb")"
: >"$root/etc/machine-id"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* "$root/var/log/"*.log

# Partition contents, each made without mounting (mke2fs -d, mkfs.vfat + mcopy).
mkdir -p "$work/data" "$root/var/lib/carine" "$root/boot/efi"
cp -a "$root/var/lib/carine/." "$work/data/"
find "$root/var/lib/carine" -mindepth 1 -delete   # a mount point: the data partition's
kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -1)
initrd=initrd.img-${kernel#vmlinuz-}
mkfs.ext4 -q -L carine-root-a -d "$root" "$work/root-a.img" "${slot_mib}M"
mkfs.ext4 -q -L carine-data -d "$work/data" "$work/data.img" "${data_mib}M"
esp=$work/esp.img
mkfs.vfat -n CARINE-ESP -C "$esp" $(( esp_mib * 1024 )) >/dev/null
boot=$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries ::/carine ::/carine/a
mcopy -i "$esp" "$boot" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$boot" ::/EFI/systemd/systemd-bootx64.efi
mcopy -i "$esp" "$here/esp/loader/loader.conf" ::/loader/loader.conf
mcopy -i "$esp" "$root/boot/$kernel" ::/carine/a/vmlinuz
mcopy -i "$esp" "$root/boot/$initrd" ::/carine/a/initrd.img
"$here/entry.sh" 1 a "$version" >"$work/entry.conf"
mcopy -i "$esp" "$work/entry.conf" ::/loader/entries/carine-1-a.conf
say "partitions made"

# The same slot as a signed update bundle (root shrunk to its content; the box grows it back).
cp --sparse=always "$work/root-a.img" "$work/root.img"
e2fsck -fy "$work/root.img" >/dev/null 2>&1 || true
resize2fs -M "$work/root.img" >/dev/null 2>&1
"$here/../.venv/bin/python" "$here/bundle.py" "${out%.img}.update.tmp" "$version" "$signing" \
  "$work/root.img" "$root/boot/$kernel" "$root/boot/$initrd" >/dev/null
mv "${out%.img}.update.tmp" "${out%.img}.update"
rm -f "$work/root.img"
say "update bundle ${out%.img}.update: $(du -h "${out%.img}.update" | cut -f1)"

# GPT: ESP, root-a and root-b (x86-64 root type), data (Linux data); 1 MiB alignment.
total=$(( 1 + esp_mib + 2 * slot_mib + data_mib + 1 ))
mkdir -p "$(dirname "$out")"
rm -f "$out.tmp"
truncate -s "${total}M" "$out.tmp"
root_type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709
sfdisk -q "$out.tmp" >&2 <<EOF
label: gpt
start=1MiB, size=${esp_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=carine-esp
size=${slot_mib}MiB, type=$root_type, name=carine-root-a
size=${slot_mib}MiB, type=$root_type, name=carine-root-b
size=${data_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=carine-data
EOF
offset=1
for part in esp root-a - data; do
  size=$slot_mib
  [ "$part" = esp ] && size=$esp_mib
  [ "$part" = data ] && size=$data_mib
  if [ "$part" != - ]; then
    dd if="$work/$part.img" of="$out.tmp" bs=1M seek="$offset" conv=notrunc,sparse status=none
  fi
  offset=$(( offset + size ))
done
mv "$out.tmp" "$out"
say "disk $out: $(du -h --apparent-size "$out" | cut -f1) ($(du -h "$out" | cut -f1) written)"
realpath "$out"
