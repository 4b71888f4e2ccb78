#!/usr/bin/env bash
# Installs the Debian packages the lab, the tests and the demo use. Idempotent; needs root.
# Miredo's packages would start a client toward a public Teredo server on install: service starts are
# blocked with a temporary policy-rc.d (exit 101), and miredo is only ever run with the lab's own config.
# Likewise radvd, miniupnpd (the lab's upnp NAT runs its own, lab/upnp-nat.ts), dockerd, prometheus (only its promtool is used) and bird (the scale-out test runs its own in
# namespaces): installed, never left running or enabled.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "setup-host: must run as root (it installs Debian packages)" >&2; exit 1; fi
# One package per command in scripts/host-commands.tsv marked setup-host (test/host/host-commands.test.ts checks).
pkgs=(iproute2 nftables conntrack tshark tcpdump miredo miredo-server ndisc6 radvd radvdump iperf3 iputils-ping procps kmod
  docker.io docker-compose debootstrap prometheus bird2 systemd-container lintian miniupnpd-nftables stun-server miniupnpc natpmpc)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1; fi
  trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
  apt-get update -qq
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Never leave a Miredo client or radvd running toward anything but the lab.
  # Same for a plain dockerd (it would set the FORWARD policy to DROP): only the tests start one, with
  # --iptables=false --ip-forward=false (test/netns/docker-lab.test.ts, scripts/docker-smoke.sh).
  for unit in miredo miredo-server radvd docker.socket docker prometheus bird miniupnpd; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
fi
