#!/usr/bin/env bash
# Install what CARINE needs on Debian 12, idempotently: the real daemons and tools from apt,
# the Python package and its pinned dependencies in .venv. Run as root (make install).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  nftables dnsmasq-base squid-openssl chrony busybox iproute2 procps
  curl openssl ca-certificates iputils-ping bind9-dnsutils prometheus python3 python3-venv make
  freeradius freeradius-python3 freeradius-utils eapoltest
  hostapd wpasupplicant conntrack openssh-client ansible-core systemd-container
  g++ python3-dev libmarisa-dev libpcre2-dev
  dpkg-dev debhelper dh-virtualenv lintian
  debootstrap mtools dosfstools e2fsprogs fdisk qemu-system-x86 qemu-utils ovmf systemd-boot-efi
  chromium fonts-dejavu-core
  clamav-daemon borgbackup litmus cadaver rclone davfs2
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# The browser tests inject axe-core from npm; a Node from elsewhere (nodesource) conflicts with
# Debian's npm package, so Debian's is only asked for when no npm is there at all.
command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install: missing Debian packages (${missing[*]}); run as root" >&2
    exit 1
  fi
  # Squid, chrony, Prometheus (for promtool), hostapd and wpa_supplicant are not this machine's
  # services (CARINE runs its own instances by PID, in namespaces): keep them from starting host
  # services while they install (only if no policy is in place already).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  echo "install: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# FreeRADIUS runs from CARINE's rendered folder (etc/freeradius), never as Debian's service with
# /etc/freeradius: keep that service disabled and stopped, whatever the package install did.
if [ "$(id -u)" -eq 0 ] && command -v systemctl >/dev/null 2>&1 \
    && systemctl is-enabled --quiet freeradius 2>/dev/null; then
  systemctl disable --now freeradius >/dev/null 2>&1 || systemctl disable freeradius >/dev/null 2>&1 || true
fi

# Debian's own Python, as on the appliance: Squid runs our filtering helper as its own user,
# which must be able to execute the venv's interpreter (a python under /root is out of reach).
PYTHON=${PYTHON:-/usr/bin/python3}
if [ ! -x .venv/bin/python ] || [ "$(readlink -f .venv/bin/python)" != "$(readlink -f "$PYTHON")" ]; then
  rm -rf .venv
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.carine-installed
# The compiled filtering lane is built by pip too: a change to its source reinstalls.
want=$(cat pyproject.toml setup.py filtering/_fastpath.cpp | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi
# axe-core for the browser tests, as package-lock.json pins it (reinstalled when the lock changes).
lock_stamp=node_modules/.carine-lock
if [ ! -f "$lock_stamp" ] || ! cmp -s package-lock.json "$lock_stamp"; then
  npm ci --no-audit --no-fund --silent
  cp package-lock.json "$lock_stamp"
fi
# The web faces' message catalogues (French first, English second) are compiled here, not kept.
.venv/bin/python -m appliance.web.i18n webui/translations >/dev/null
# Squid runs the filtering helper as its user from this clone's .venv: say so now, not minutes
# later when the lab or its tests stop on it.
if [ "$(id -u)" -eq 0 ] && id proxy >/dev/null 2>&1 \
    && ! runuser -u proxy -- test -r "$PWD/pyproject.toml"; then
  echo "install: warning: Squid's user 'proxy' cannot read $PWD; the lab and its tests need a" \
       "clone others can read (e.g. /opt/carine, not under /root)" >&2
fi
echo "install: ok (Debian packages present, .venv ready)"
