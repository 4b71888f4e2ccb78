#!/bin/sh
# Installs teredo-agents on this host (or into a staged tree with --root) the way the systemd units expect it:
#
#   PREFIX (/opt/teredo-agents)     the npm package, installed from its tarball (`npm install -g --prefix`):
#                                   PREFIX/lib/node_modules/teredo-agents, PREFIX/bin/<agent>; the addon is
#                                   built by the package's install script (g++, make, python3, Node's headers)
#   BINDIR (/usr/local/bin)/<agent> links to PREFIX/bin/<agent>, where the units' ExecStart= looks
#   /etc/systemd/system/*.service   the units from systemd/ (ExecStart= rewritten when BINDIR differs)
#   /etc/teredo-agents/*.json       the example configs from examples/, only where no file exists yet
#
#   scripts/install.sh [--root DIR] [--prefix DIR] [--bindir DIR] [--tarball FILE]
#
# --root DIR stages everything under DIR (nothing on the host is touched, no daemon-reload): links and units
# still name the final paths (/opt/..., /usr/local/bin/...), so DIR can be copied to / as it is.
# --tarball installs a package made by `npm pack` (default: pack this checkout, which builds it first).
# Without --root, systemd is told to reload its units when it runs; no unit is enabled or started.
# Needs npm, and the npm registry (or npm's cache) for the production dependencies.
set -eu

root=''
prefix=/opt/teredo-agents
bindir=/usr/local/bin
tarball=''
usage() {
  echo "usage: $0 [--root DIR] [--prefix DIR] [--bindir DIR] [--tarball FILE]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || usage; root=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --bindir) [ $# -ge 2 ] || usage; bindir=$2; shift 2 ;;
    --tarball) [ $# -ge 2 ] || usage; tarball=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "$0: unknown option $1" >&2; usage ;;
  esac
done
for dir in "$prefix" "$bindir"; do
  case "$dir" in
    /*) ;;
    *) echo "$0: --prefix and --bindir must be absolute paths, not $dir" >&2; exit 2 ;;
  esac
done
if [ -n "$root" ]; then
  mkdir -p "$root"
  root=$(cd "$root" && pwd)
fi

here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$tarball" ]; then
  echo "packing $here"
  tarball="$work/$(cd "$here" && npm pack --silent --pack-destination "$work" | tail -n 1)"
fi

echo "installing $tarball into $root$prefix"
npm install --global --prefix "$root$prefix" --omit=dev --no-audit --no-fund --prefer-offline --loglevel=error "$tarball"
pkg="$root$prefix/lib/node_modules/teredo-agents"
test -f "$pkg/package.json"

mkdir -p "$root$bindir"
for name in $(node -p 'Object.keys(require(process.argv[1]).bin).join(" ")' "$pkg/package.json"); do
  test -x "$root$prefix/bin/$name"
  ln -sfn "$prefix/bin/$name" "$root$bindir/$name"
  echo "  $bindir/$name -> $prefix/bin/$name"
done

units="$root/etc/systemd/system"
mkdir -p "$units"
for unit in "$pkg"/systemd/*.service; do
  sed "s#/usr/local/bin/#$bindir/#g" "$unit" >"$units/$(basename "$unit")"
  chmod 0644 "$units/$(basename "$unit")"
  echo "  /etc/systemd/system/$(basename "$unit")"
done

conf="$root/etc/teredo-agents"
mkdir -p "$conf"
for example in "$pkg"/examples/*.json; do
  target="$conf/$(basename "$example")"
  if [ -e "$target" ]; then
    echo "  /etc/teredo-agents/$(basename "$example") exists, kept"
  else
    install -m 0644 "$example" "$target"
    echo "  /etc/teredo-agents/$(basename "$example") (example: edit it, then check it with --check-config)"
  fi
done

if [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload
fi
echo "done; enable a unit with e.g.: systemctl enable --now teredo-server"
