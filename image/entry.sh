#!/bin/sh
# One systemd-boot entry (Boot Loader Specification type 1) for a root slot; the build and
# `carine update` write the same one. Usage: entry.sh GENERATION SLOT VERSION
# The entry's file name carries the generation: the newest good one sorts first and boots.
set -eu
gen=$1 slot=$2 version=$3
cat <<EOF
title CARINE $version (slot $(echo "$slot" | tr a-z A-Z), generation $gen)
linux /carine/$slot/vmlinuz
initrd /carine/$slot/initrd.img
options root=PARTLABEL=carine-root-$slot rw systemd.gpt_auto=0 net.ifnames=0 console=tty1 console=ttyS0,115200 carine.slot=$slot
EOF
