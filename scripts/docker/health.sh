#!/bin/bash
# The image's HEALTHCHECK: `<agent> [mode] status` for the agent that is PID 1 of the container (the command the
# entrypoint ran: after node and its own options (the bins' shebang passes --max-semi-space-size=1
# --v8-pool-size=1) comes the agent's link in /usr/local/bin; the words before its first option are its mode, as
# in `rasadv listen`), with its --instance if it was given one.
# Exit 0 when the agent answers on its control socket (running), non-zero otherwise: not running (3), no answer,
# or PID 1 is not an agent (e.g. `docker run ... teredo-agents sh`). The query runs as uid 10001 without
# capabilities; it needs none (the control socket is an abstract socket in the container's network namespace).
set -euo pipefail
mapfile -d '' -t argv </proc/1/cmdline
script=1
while [[ ${argv[script]:-} == -* ]]; do script=$((script + 1)); done
agent=$(basename "${argv[script]:-}")  # PID 1 in the middle of an execve reads as an empty cmdline
link=/usr/local/bin/$agent
if [[ ${argv[0]:-} != */node && ${argv[0]:-} != node || ! -L $link || $(readlink "$link") != /opt/teredo-agents/* ]]; then
  echo "health: PID 1 is not an agent: ${argv[*]}" >&2
  exit 1
fi
status=("$agent")
for word in "${argv[@]:script+1}"; do [[ $word != -* ]] || break; status+=("$word"); done
status+=(status)
for ((i = script + 1; i < ${#argv[@]}; i++)); do
  case ${argv[i]} in
    --instance) status+=(--instance "${argv[i + 1]:-}") ;;
    --instance=*) status+=("${argv[i]}") ;;
  esac
done
[[ $(id -u) != 0 ]] || status=(setpriv --reuid=teredo --regid=teredo --init-groups --no-new-privs --bounding-set=-all -- "${status[@]}")
exec "${status[@]}"
