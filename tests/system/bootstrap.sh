#!/usr/bin/env bash
# Debian 12 root of the system tests, built once by debootstrap and cached under
# /var/cache/carine/system-<hash of packages.txt and this script>/root (prints that path).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirror=${CARINE_MIRROR:-http://deb.debian.org/debian}
key=$(cat "$here/packages.txt" "$here/bootstrap.sh" | sha256sum | cut -c1-16)
cache=/var/cache/carine/system-$key
if [ -f "$cache/root/.carine-complete" ]; then echo "$cache/root"; exit 0; fi
mkdir -p "$cache"
rm -rf "$cache/root.new"
include=$(grep -v '^#' "$here/packages.txt" | paste -sd, -)
start=$(date +%s)
debootstrap --variant=minbase --include="$include" bookworm "$cache/root.new" "$mirror" >&2 \
  || { cat "$cache/root.new/debootstrap/debootstrap.log" >&2 || true; exit 1; }
rm -rf "$cache/root.new/var/cache/apt/archives/"*.deb
# The packaged daemons stay off: the appliance runs them as carine-* units.
for unit in squid freeradius chrony dnsmasq ssh; do
  rm -f "$cache/root.new/etc/systemd/system/multi-user.target.wants/$unit.service"
done
touch "$cache/root.new/.carine-complete"
rm -rf "$cache/root"
mv "$cache/root.new" "$cache/root"
echo "bootstrap: debootstrap $(( $(date +%s) - start )) s" >&2
echo "$cache/root"
