#!/usr/bin/env bash
# Debian 12 root file systems from ONE debootstrap per machine, cached as tarballs; prints the tarball's path.
#
#   scripts/debian-root.sh             minbase: what scripts/docker-base.sh turns into its base images
#   scripts/debian-root.sh --systemd   minbase + systemd, systemd-sysv, procps (apt-get in a chroot of the
#                                      minbase root): boots with `systemd-nspawn --boot` (test/netns/deb-systemd.test.ts)
#
# Cache: $TEREDO_CACHE (default /var/cache/teredo-agents): bookworm-<flavour>-<fingerprint>.tar, the fingerprint
# of this script, the suite and the mirror; a rerun with the same inputs prints the cached path at once (older
# fingerprints are deleted), --force rebuilds. The debootstrap download cache is kept there too.
# Needs root, debootstrap and the Debian mirror (DEBIAN_MIRROR, default http://deb.debian.org/debian).
set -euo pipefail

DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
CACHE=${TEREDO_CACHE:-/var/cache/teredo-agents}
SUITE=bookworm
SYSTEMD_PACKAGES=(systemd systemd-sysv procps)
flavour=minbase
force=false

lib=$(dirname "$0")/root-lib.sh
# shellcheck source=scripts/root-lib.sh
. "$lib"

systemd=false
parse_flags 2,11 systemd force -- "$@"
$systemd && flavour=systemd
need_root "debootstrap and chroot need it"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"

fp=$({ cat "$0" "$lib"; echo "$SUITE $DEBIAN_MIRROR"; } | sha256sum | cut -c1-16)
tarball() { echo "$CACHE/$SUITE-$1-$fp.tar"; }
mkdir -p "$CACHE/debootstrap"

make_work

# <flavour> <builder>: runs the builder into $work/<flavour> unless the tarball is cached, then tars the root.
cached() {
  local name=$1 build=$2 out
  out=$(tarball "$name")
  if $force || [[ ! -f $out ]]; then
    local t0=$SECONDS
    mkdir -p "$work/$name"
    "$build" "$work/$name"
    tar -C "$work/$name" --numeric-owner -cf "$out.tmp" . && mv "$out.tmp" "$out"
    find "$CACHE" -maxdepth 1 -name "$SUITE-$name-*.tar" ! -path "$out" -delete
    log "$out built in $((SECONDS - t0)) s"
  fi
}

build_minbase() {
  log "debootstrap --variant=minbase $SUITE (log: $work/debootstrap.log)"
  debootstrap --variant=minbase --cache-dir="$CACHE/debootstrap" "$SUITE" "$1" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
}

build_systemd() {
  tar -C "$1" -xf "$(tarball minbase)"
  # The packages' maintainer scripts run in the chroot: /proc for them, the host's resolver for apt, no service start.
  cp -L /etc/resolv.conf "$1/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$1/usr/sbin/policy-rc.d"
  chmod 0755 "$1/usr/sbin/policy-rc.d"
  mount -t proc proc "$1/proc"
  chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
    sh -ec "apt-get update -qq && apt-get install -y -qq --no-install-recommends ${SYSTEMD_PACKAGES[*]}" >"$work/apt.log" 2>&1 \
    || { tail -20 "$work/apt.log" >&2; die "apt-get install ${SYSTEMD_PACKAGES[*]} in the chroot failed"; }
  umount "$1/proc"
  rm -f "$1/usr/sbin/policy-rc.d" "$1/etc/resolv.conf" "$1/etc/machine-id" "$1/var/lib/dbus/machine-id"
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin
  find "$1/var/cache/apt/archives" -name '*.deb' -delete
  # An empty machine-id: systemd-nspawn hands the container one at boot.
  : >"$1/etc/machine-id"
  echo teredo-agents-test >"$1/etc/hostname"
}

cached minbase build_minbase
[[ $flavour == systemd ]] && cached systemd build_systemd
tarball "$flavour"
