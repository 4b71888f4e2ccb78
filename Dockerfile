# One image with every teredo-agents agent; the command picks the agent:
#
#   docker run --rm --pull never teredo-agents teredo-client decode 2001:0:1117:34fa:1027:374b:e1fc:f635
#   docker run --rm --pull never --network lan teredo-agents rasadv listen --json
#
# The two base images are local, made by scripts/docker-base.sh (Debian 12 by debootstrap + Node 24); nothing is
# pulled. Build (npm ci and the lab's apt-get need the registries, hence the host network):
#
#   scripts/docker-base.sh && docker build --pull=false --network host -t teredo-agents .
#   docker build --pull=false --network host --target lab -t teredo-agents-lab .     (the compose lab's image)
#
# docker-compose.yml builds both itself: scripts/docker-base.sh && docker-compose up -d --build.
#
# Works with the classic builder and with BuildKit. See docs/docker.md.
ARG BASE_IMAGE=teredo-agents-base:bookworm
ARG BUILD_IMAGE=teredo-agents-build:bookworm

# Build stage: g++, make, python3, npm and Node's headers come with the build image.
FROM ${BUILD_IMAGE} AS build
WORKDIR /src
# The lockfile and the addon's sources first, so editing TypeScript does not redo npm ci (and the addon build
# that root's `install` script runs: native/build.mjs -> npm's node-gyp -> native/build/Release/teredo_io.node).
COPY package.json package-lock.json ./
COPY native/binding.gyp native/build.mjs native/
COPY native/src native/src
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src src
COPY agents agents
COPY lab lab
COPY scripts scripts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && test -f native/build/Release/teredo_io.node
# Lay out the runtime tree in /out: the compiled agents, lab and library, production node_modules, the addon, and one
# link in /usr/local/bin per "bin" entry of package.json (so a new agent needs no edit here).
# scripts/setup-host.sh is what `teredo-lab up` runs to install the lab's Debian packages.
RUN set -eu; app=/out/opt/teredo-agents; \
    mkdir -p "$app/dist" "$app/native/build/Release" "$app/scripts" /out/usr/local/bin; \
    cp -a package.json node_modules "$app/"; \
    cp -a dist/src dist/agents dist/lab "$app/dist/"; \
    cp native/build/Release/teredo_io.node "$app/native/build/Release/"; \
    cp scripts/setup-host.sh "$app/scripts/"; \
    node -p 'Object.entries(require("./package.json").bin).map(([n, p]) => n + " " + p).join("\n")' \
    | while read -r name path; do \
        test -f "$app/$path"; chmod 0755 "$app/$path"; ln -s "/opt/teredo-agents/$path" "/out/usr/local/bin/$name"; \
      done

# Runtime stage: no compilers, no npm; Node (from the base image), the app, an unprivileged user.
FROM ${BASE_IMAGE} AS runtime
RUN groupadd --gid 10001 teredo \
 && useradd --uid 10001 --gid teredo --no-create-home --no-log-init --home-dir /nonexistent \
      --shell /usr/sbin/nologin teredo
COPY --from=build /out/ /
# Last, so that editing them rebuilds nothing else (both are executable in the repository; COPY keeps the mode).
COPY scripts/docker/entrypoint.sh /usr/local/bin/teredo-agents-entrypoint
COPY scripts/docker/health.sh /usr/local/bin/teredo-agents-health
ENV NODE_ENV=production
WORKDIR /opt/teredo-agents
# The agent runs as teredo (uid 10001). The container starts as root only so that the entrypoint can hand the
# capabilities given with --cap-add to that user (scripts/docker/entrypoint.sh; docs/docker.md, "Privileges"):
#   --cap-add NET_ADMIN --device /dev/net/tun     (TUN: teredo-client, teredo-relay, teredo-server --forward-interface)
#   --cap-add NET_RAW                             (raw ICMPv6/IPv6: ra-sender; in Docker's default set)
ENTRYPOINT ["/usr/local/bin/teredo-agents-entrypoint"]
CMD ["teredo-client", "--help"]
# `<agent> status` of the agent that is PID 1: healthy while it answers (scripts/docker/health.sh).
HEALTHCHECK --interval=30s --timeout=15s --start-period=10s --retries=3 CMD ["/usr/local/bin/teredo-agents-health"]

# The compose lab's image (docker-compose.yml): the agents image plus the tools of the lab's routers and hosts
# (ip, nft, ping), from the Debian mirror.
FROM runtime AS lab
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 nftables iputils-ping \
      >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && find /var/cache/apt/archives -name '*.deb' -delete

# Last, so that a plain `docker build .` makes the agents image.
FROM runtime AS agents
