#!/usr/bin/env bash
# Build carine_<version>_amd64.deb (dh-virtualenv) from this clone's files in a scratch copy,
# into dist/, then run lintian on it (make deb). Prints the .deb's path last.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(dpkg-parsechangelog -S Version)
out=dist/carine_${version}_amd64.deb
work=$(mktemp -d /var/tmp/carine-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/carine"
# Tracked and new files, never the clone's .venv, caches or earlier builds.
git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -C "$work/carine" -xf -
start=$(date +%s)
(cd "$work/carine" && dpkg-buildpackage -b -us -uc --no-sign >"$work/build.log" 2>&1) \
  || { tail -40 "$work/build.log" >&2; exit 1; }
mkdir -p dist
mv "$work/carine_${version}_amd64.deb" "$out"
echo "deb: built $out in $(( $(date +%s) - start )) s, $(du -h "$out" | cut -f1)" >&2
lintian --fail-on error --suppress-tags-from-file /dev/null "$out" >&2
echo "$out"
