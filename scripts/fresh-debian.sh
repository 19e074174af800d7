#!/usr/bin/env bash
# Run one of the README's commands (make test, make lab) on a brand-new Debian 12 system: a
# debootstrap chroot with git, make and ca-certificates only, this checkout cloned into /opt/carine.
#
#   scripts/fresh-debian.sh [--keep] [TARGET...]      (as root; default TARGET: test)
#
# A green run on a long-lived machine can hide a missing install step; this cannot. The chroot
# shares this machine's kernel and network namespace, so the lab inside it is the same lab as
# `make lab` here: run it while no lab is up. It prints each target's time, then removes the
# chroot (kept with --keep, or on failure, for a look; `scripts/fresh-debian.sh --clean DIR`).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

unmount_all() {  # everything mounted under $1, deepest first, never propagated to the host
  local root=$1
  mount --make-rslave "$root" 2>/dev/null || true
  findmnt -rn -o TARGET | grep -E "^$root(/|$)" | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

if [ "${1:-}" = "--clean" ]; then
  dir=${2:?usage: $0 --clean DIR}
  case $dir in /var/tmp/carine-fresh-*) ;; *) echo "not a chroot of ours: $dir" >&2; exit 2 ;; esac
  unmount_all "$dir"; rm -rf --one-file-system "$dir"; exit 0
fi
keep=false
if [ "${1:-}" = "--keep" ]; then keep=true; shift; fi
targets=("${@:-test}")
[ "$(id -u)" -eq 0 ] || { echo "fresh-debian: run as root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap

root=$(mktemp -d /var/tmp/carine-fresh-XXXXXX)
chmod 755 "$root"
echo "fresh-debian: debootstrap bookworm into $root"
SECONDS=0
debootstrap --include=git,make,ca-certificates bookworm "$root" http://deb.debian.org/debian \
  > "$root.debootstrap.log" 2>&1 || { echo "debootstrap failed: $root.debootstrap.log" >&2; exit 1; }
echo "fresh-debian: base system in ${SECONDS} s"
cat > "$root/etc/apt/sources.list" <<'EOF'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"
# CAs this machine trusts locally (an egress proxy's, say) are trusted inside too.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi

# `ip netns exec` remounts / as a slave: the chroot's root must be a mount point of its own.
mount --bind "$root" "$root"; mount --make-private "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"
mount -t tmpfs -o mode=755 tmpfs "$root/run"

git clone -q "$here" "$root/opt/carine"
[ -d "$here/../shared" ] && cp -a "$here/../shared" "$root/opt/shared"

status=0
for target in "${targets[@]}"; do
  echo "fresh-debian: make $target (log: $root.$target.log)"
  SECONDS=0
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      CI="${CI:-}" bash -c "cd /opt/carine && make $target" > "$root.$target.log" 2>&1 || status=$?
  echo "fresh-debian: make $target: exit $status in ${SECONDS} s"
  tail -n 3 "$root.$target.log"
  [ "$status" -eq 0 ] || break
done
# A lab brought up inside goes down before the chroot does.
if [ -d "$root/run/carine-lab" ]; then
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /opt/carine && .venv/bin/carine lab down" || true
fi
if [ "$keep" = false ] && [ "$status" -eq 0 ]; then
  unmount_all "$root"; rm -rf --one-file-system "$root"
else
  echo "fresh-debian: kept $root (remove it with: $0 --clean $root)"
fi
exit "$status"
