#!/usr/bin/env bash
# Debian 12 root for the image, built once by debootstrap and cached under
# /var/cache/carine/image-<hash of packages.txt and this script>/root.tar (prints that path).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirror=${CARINE_MIRROR:-http://deb.debian.org/debian}
key=$(cat "$here/packages.txt" "$here/bootstrap.sh" | sha256sum | cut -c1-16)
cache=/var/cache/carine/image-$key
if [ -f "$cache/root.tar" ]; then echo "$cache/root.tar"; exit 0; fi
mkdir -p "$cache"
work=$(mktemp -d /var/tmp/carine-debootstrap.XXXXXX)
trap 'rm -rf "$work"' EXIT
include=$(grep -v '^#' "$here/packages.txt" | paste -sd, -)
# No daemon may start inside the chroot while packages install.
start=$(date +%s)
debootstrap --variant=minbase --include="$include" bookworm "$work/root" "$mirror" >&2 \
  || { cat "$work/root/debootstrap/debootstrap.log" >&2 || true; exit 1; }
apt_clean() { rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*; }
apt_clean
tar -C "$work/root" --numeric-owner --xattrs -cf "$cache/root.tar.tmp" .
mv "$cache/root.tar.tmp" "$cache/root.tar"
echo "bootstrap: debootstrap $(( $(date +%s) - start )) s" >&2
echo "$cache/root.tar"
