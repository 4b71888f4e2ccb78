# The compose lab's image (docker-compose.yml): the agents image plus the tools the lab's routers and hosts use
# (ip, nft, ping). Built without a context, from the local agents image and the Debian mirror:
#
#   docker build --pull=false --network host --build-arg IMAGE=teredo-agents -t teredo-agents-lab - \
#     < scripts/docker/lab.Dockerfile
ARG IMAGE=teredo-agents
FROM ${IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 nftables iputils-ping \
      >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && find /var/cache/apt/archives -name '*.deb' -delete
