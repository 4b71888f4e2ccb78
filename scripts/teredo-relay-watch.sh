#!/bin/sh
# Keeps a BIRD protocol (the BGP session announcing 2001::/32, examples/bird/teredo-relay.conf) enabled while
# teredo-relay answers `status` within a second, and disabled while it does not: a relay process that is alive
# but stuck keeps its TUN device and route, which BIRD's kernel protocol alone cannot tell from a healthy one
# (docs/scaling-out.md). A dead relay needs no watcher: its route goes with its device and BIRD withdraws at once.
#
# Environment (defaults): TEREDO_RELAY (teredo-relay; the command, e.g. "node /opt/x/main.js"), WATCH_INTERVAL
# (2 seconds between checks), WATCH_PROTOCOL (upstream), BIRD_SOCKET (/run/bird/bird.ctl). Runs until killed;
# acts only on a change, so `birdc disable` by hand stays until the relay's state changes.
set -u
relay=${TEREDO_RELAY:-teredo-relay}
interval=${WATCH_INTERVAL:-2}
protocol=${WATCH_PROTOCOL:-upstream}
socket=${BIRD_SOCKET:-/run/bird/bird.ctl}
state=unknown
while :; do
  # $relay unquoted on purpose: it may be a command with arguments.
  if $relay status --json --timeout 1000 >/dev/null 2>&1; then want=enable; else want=disable; fi
  if [ "$want" != "$state" ] && birdc -s "$socket" "$want" "$protocol" >/dev/null; then
    state=$want
    echo "teredo-relay-watch: $want $protocol"
  fi
  sleep "$interval"
done
