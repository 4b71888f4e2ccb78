#!/bin/bash
# The image's ENTRYPOINT: runs the command (an agent: `teredo-client --server X`, `rasadv listen`...) as the
# image's user teredo (uid/gid 10001) holding exactly the network capabilities the container was given, and
# nothing else. No file capabilities: node itself stays unprivileged for everyone else.
#
# Docker hands capabilities added with --cap-add to root only (a non-root container user gets them in its
# bounding set but cannot use them), so the container starts as root and this script drops to uid 10001 with
# setpriv, raising each capability below that the container's bounding set holds into the inheritable and ambient
# sets (ambient capabilities survive execve of a binary without file capabilities, capabilities(7)):
#
#   CAP_NET_ADMIN         a TUN device (teredo-client, teredo-relay, teredo-server --forward-interface):
#                         --cap-add NET_ADMIN --device /dev/net/tun
#   CAP_NET_RAW           a raw ICMPv6 / IPv6 socket (ra-sender, the server's native forwarding); in Docker's
#                         default set, so `--cap-drop NET_RAW` takes it away
#   CAP_NET_BIND_SERVICE  a port below 1024 (in Docker's default set)
#
# Every other capability (Docker's defaults CHOWN, DAC_OVERRIDE, SETUID, ...) is dropped from the bounding set,
# and no_new_privs is set, so the agent can never regain root or anything beyond that list.
# Run with --user (any non-root user), the command is run as given, without capabilities.
set -euo pipefail
[[ $# -gt 0 ]] || set -- teredo-client --help
[[ $(id -u) == 0 ]] || exec "$@"

bounding=$(awk '$1 == "CapBnd:" { print $2 }' /proc/self/status)
# Switching user and shrinking the bounding set take CAP_SETUID, CAP_SETGID and CAP_SETPCAP (Docker's default set;
# they end here, at the switch).
for entry in SETGID:6 SETUID:7 SETPCAP:8; do
  if (( ! ((16#$bounding >> ${entry#*:}) & 1) )); then
    echo "teredo-agents-entrypoint: the container lacks CAP_${entry%:*}, needed to switch to uid 10001 with the" \
      "capabilities it was given; keep Docker's default set (no --cap-drop ALL) or run with --user 10001" >&2
    exit 1
  fi
done
caps=-all
for entry in net_bind_service:10 net_admin:12 net_raw:13; do
  if (( (16#$bounding >> ${entry#*:}) & 1 )); then caps+=",+${entry%:*}"; fi
done
exec setpriv --reuid=teredo --regid=teredo --init-groups --no-new-privs \
  --bounding-set="$caps" --inh-caps="$caps" --ambient-caps="$caps" -- "$@"
