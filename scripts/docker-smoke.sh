#!/usr/bin/env bash
# Docker smoke test: builds the base images (scripts/docker-base.sh, idempotent) and the agents image, then checks
# the image for real:
#   1. `teredo-client decode` of RFC 4380's example address names server 17.23.52.250;
#   2. the runtime is slim and unprivileged: uid 10001, no compiler, make, python3 or npm on PATH;
#   3. privileged agents run as uid 10001 with only the added capability (the entrypoint, scripts/docker/): with
#      --cap-add NET_ADMIN --device /dev/net/tun the process holds exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE
#      and a TUN device opens and takes an MTU; without NET_ADMIN it is refused; a raw ICMPv6 socket opens (NET_RAW
#      is in Docker's default set) and is refused with --cap-drop NET_RAW;
#   4. rasadv across a user-defined bridge network: `rasadv advertise` in one container, `rasadv listen --once
#      --json` in another hears it (exit 4: unknown server), and with --allow the same server is known (exit 0);
#   5. the HEALTHCHECK (`rasadv advertise status`) turns the advertiser healthy, and `docker stop -t 1` ends it
#      with its own SIGTERM exit (0), not the SIGKILL after the second (137).
# A manual / operations check (CI runs test/netns/docker-lab.test.ts instead). Needs root and a Docker daemon;
# with --start-dockerd it starts one itself when none answers, only as `dockerd --iptables=false
# --ip-forward=false` (a plain dockerd sets the FORWARD policy to DROP and breaks other bridges on the host), and
# stops it by PID at the end, with the docker0 bridge and netns mount it leaves. Containers and the network it
# creates are removed at the end, also on failure; images stay.
#
#   scripts/docker-smoke.sh [--start-dockerd]
#   env: IMAGE (default teredo-agents:latest), BASE_IMAGE, BUILD_IMAGE (see docker-base.sh),
#        PREFIX (default teredo-smoke: names of the containers and the network, with this shell's PID)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
IMAGE=${IMAGE:-teredo-agents:latest}
export BASE_IMAGE=${BASE_IMAGE:-teredo-agents-base:bookworm}
export BUILD_IMAGE=${BUILD_IMAGE:-teredo-agents-build:bookworm}
PREFIX=${PREFIX:-teredo-smoke}
net=$PREFIX-net-$$
adv=$PREFIX-adv-$$
start_dockerd=false
dockerd_pid=
had_docker0=true
had_netns_mount=true

for arg in "$@"; do
  case $arg in
    --start-dockerd) start_dockerd=true ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "docker-smoke: unknown argument $arg (usage: $0 [--start-dockerd])" >&2; exit 2 ;;
  esac
done

log() { echo "docker-smoke: $*" >&2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/$PREFIX.XXXXXX")

cleanup() {
  local status=$?
  docker rm -f "$adv" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  if [[ -n $dockerd_pid ]]; then
    log "stopping the dockerd this script started (PID $dockerd_pid)"
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
    # dockerd leaves its default bridge and a bind mount of the host's netns behind; remove what this run made.
    $had_docker0 || ip link delete docker0 2>/dev/null || true
    $had_netns_mount || { umount /run/docker/netns/default 2>/dev/null; rm -f /run/docker/netns/default; } || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

if ! docker info >/dev/null 2>&1; then
  $start_dockerd || { log "no Docker daemon answers; start one (docs/docker.md) or pass --start-dockerd"; exit 1; }
  command -v dockerd >/dev/null || { log "dockerd not found: apt-get install docker.io"; exit 1; }
  ip link show docker0 >/dev/null 2>&1 || had_docker0=false
  mountpoint -q /run/docker/netns/default || had_netns_mount=false
  dockerd_log=${TMPDIR:-/tmp}/$PREFIX-dockerd.log
  log "starting dockerd --iptables=false --ip-forward=false (log: $dockerd_log)"
  dockerd --iptables=false --ip-forward=false >"$dockerd_log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { log "dockerd did not come up; see $dockerd_log"; exit 1; }
fi

"$repo/scripts/docker-base.sh"

log "docker build $IMAGE (log: $work/build.log)"
started=$SECONDS
docker build --pull=false --network host --build-arg BASE_IMAGE="$BASE_IMAGE" --build-arg BUILD_IMAGE="$BUILD_IMAGE" \
  -t "$IMAGE" "$repo" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; log "docker build failed"; exit 1; }
build_seconds=$((SECONDS - started))

# Each check runs, prints PASS or FAIL with what it saw, and the run ends with the count.
passed=0; failed=0
check() { # <name> <command...>: the command's output goes to $work/out
  local name=$1; shift
  if "$@" >"$work/out" 2>&1; then
    passed=$((passed + 1)); echo "PASS  $name"
  else
    failed=$((failed + 1)); echo "FAIL  $name"; sed 's/^/      /' "$work/out"
  fi
}
hide_warning() { grep -v '^WARNING: IPv4 forwarding is disabled' || true; }
# Docker warns about --ip-forward=false on every run; containers on one bridge talk without forwarding.
run() { docker run --rm --pull never "$@" 2> >(hide_warning >&2); }
# expect <extended regex> <command...>: the command's output (shown) has a line matching the regex.
expect() { local pattern=$1 out; shift; out=$("$@" 2>&1); echo "$out"; grep -Eq "$pattern" <<<"$out"; }

check "teredo-client decode 2001:0:1117:34fa:1027:374b:e1fc:f635 -> server 17.23.52.250" \
  expect '^server +17\.23\.52\.250$' run "$IMAGE" teredo-client decode 2001:0:1117:34fa:1027:374b:e1fc:f635
check "runtime runs as uid 10001 and has no cc, gcc, g++, make, python3, npm" \
  expect '^uid=10001 found=none$' run "$IMAGE" sh -c \
  'found=$(for c in cc gcc g++ make python3 npm; do command -v $c; done); echo uid=$(id -u) found=${found:-none}'

# The addon's two privileged paths, through the project's own adapters (src/io).
tun_js='import("/opt/teredo-agents/dist/src/io/tun-linux.js").then(({ openTun }) => {
  const t = openTun({ name: "teredo0", mtu: 1280 });
  console.log("opened", t.name, "mtu", require("fs").readFileSync("/sys/class/net/teredo0/mtu", "utf8").trim(),
    "uid", process.getuid());
  t.close(); }).catch((e) => { console.log(e.code, e.message); process.exit(3); })'
icmp_js='import("/opt/teredo-agents/dist/src/io/icmpv6-socket.js").then(({ openIcmpv6Socket }) => {
  openIcmpv6Socket({ ifname: "lo", types: [133] }).close(); console.log("raw ICMPv6 socket opened uid", process.getuid());
  }).catch((e) => { console.log(e.code, e.message); process.exit(3); })'
caps_sh='echo uid=$(id -u) $(grep -E "^Cap(Eff|Amb):" /proc/self/status | tr -s "\t\n" "  ")'
check "uid 10001 holds exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE (0x3400) with --cap-add NET_ADMIN" \
  expect '^uid=10001 CapEff: 0000000000003400 CapAmb: 0000000000003400 ?$' \
  run --cap-add NET_ADMIN --device /dev/net/tun "$IMAGE" sh -c "$caps_sh"
if [[ -c /dev/net/tun ]]; then
  check "TUN opens as uid 10001 with --cap-add NET_ADMIN --device /dev/net/tun" \
    expect '^opened teredo0 mtu 1280 uid 10001$' run --cap-add NET_ADMIN --device /dev/net/tun "$IMAGE" node -e "$tun_js"
  check "TUN is refused without --cap-add NET_ADMIN (IO_TUN_OPEN)" \
    expect '^IO_TUN_OPEN ' run --device /dev/net/tun "$IMAGE" node -e "$tun_js"
else
  log "no /dev/net/tun on this host: TUN checks skipped"
fi
check "raw ICMPv6 socket opens as uid 10001 with --cap-add NET_RAW" \
  expect '^raw ICMPv6 socket opened uid 10001$' run --cap-add NET_RAW "$IMAGE" node -e "$icmp_js"
check "raw ICMPv6 socket is refused with --cap-drop NET_RAW (IO_ICMPV6_OPEN)" \
  expect '^IO_ICMPV6_OPEN ' run --cap-drop NET_RAW "$IMAGE" node -e "$icmp_js"

# rasadv: 239.255.2.2:9753 multicast between two containers on one bridge (no NAT, no forwarding involved).
docker network create --driver bridge "$net" >/dev/null
docker run -d --pull never --name "$adv" --network "$net" --health-interval 1s "$IMAGE" \
  rasadv advertise --hostname SMOKE-ADV --interval 1 >/dev/null 2> >(hide_warning >&2)
adv_ip=$(docker inspect -f "{{ (index .NetworkSettings.Networks \"$net\").IPAddress }}" "$adv")
listen() { # <expected exit> <expected "known"> <more listen args...>
  local want=$1 known=$2 code=0 out heard; shift 2
  out=$(run --network "$net" "$IMAGE" rasadv listen --once --timeout 4 --json --log-level warn "$@") || code=$?
  echo "$out"; echo "exit $code"
  heard=$(grep -F '"event":"advertisement"' <<<"$out" | grep -F "\"sender\":\"$adv_ip\"" \
    | grep -F '"hostname":"SMOKE-ADV"' | grep -F "\"known\":$known" || true)
  [[ $code == "$want" && -n $heard ]]
}
check "rasadv listen --once --json hears rasadv advertise ($adv_ip) on $net: unknown, exit 4" listen 4 false
check "rasadv listen --allow SMOKE-ADV: the same server is known, exit 0" listen 0 true --allow SMOKE-ADV

healthy() { # the advertiser's health turns "healthy" (the HEALTHCHECK ran `rasadv advertise status`, exit 0)
  local state
  for _ in $(seq 20); do
    state=$(docker inspect -f '{{ .State.Health.Status }}' "$adv")
    [[ $state == healthy ]] && break
    sleep 0.5
  done
  echo "health: $state"; docker inspect -f '{{ with (index .State.Health.Log 0) }}{{ .Output }}{{ end }}' "$adv"
  [[ $state == healthy ]]
}
check "HEALTHCHECK: the advertiser becomes healthy (rasadv advertise status)" healthy
stopped() { # docker stop -t 1: SIGTERM, then SIGKILL after 1 s; exit 0 means the agent stopped on SIGTERM in time
  docker stop -t 1 "$adv" >/dev/null
  local code; code=$(docker inspect -f '{{ .State.ExitCode }}' "$adv"); echo "exit $code"; [[ $code == 0 ]]
}
check "docker stop -t 1: the agent exits 0 on SIGTERM within the second (137 would be the SIGKILL)" stopped

sizes=$(for image in "$IMAGE" "$BASE_IMAGE" "$BUILD_IMAGE"; do
  docker image inspect -f '{{.Size}}' "$image" | awk -v i="$image" '{ printf "%s %.0f MB; ", i, $1 / 1e6 }'; done)
sizes=${sizes%; }
log "build of $IMAGE: ${build_seconds} s; images: $sizes"
echo "docker-smoke: $passed passed, $failed failed"
[[ $failed == 0 ]]
