/*
 * relay-flood: hostile load for a Teredo relay (RFC 4380 §5.4). Sends --count Teredo datagrams at --rate per second
 * (0: as fast as the sockets take them) from --sockets UDP sockets (one source port each) to the relay; each
 * carries an IPv6/UDP packet to --dst (port 9), 8 bytes of payload, whose IPv6 source is, by weight out of 8:
 *   embedded  4  the Teredo address embedding this socket's own mapping (served by --server): a peer the relay
 *                may take on the strength of the embedded mapping alone, one per socket (its bounded pool)
 *   spoofed   3  a Teredo address embedding someone else's mapping (random global IPv4 and port): must be dropped
 *   native    1  a native (non-Teredo) IPv6 source: must be dropped, a relay only relays for Teredo sources
 * Runs only inside the benchmark's lab namespaces (bench/hostile/run.mjs).
 *
 *   relay-flood --relay A.B.C.D --port P --source A.B.C.D --server A.B.C.D --dst IPV6 [--count 100000]
 *               [--rate 20000] [--sockets 64] [--seed 1]
 *
 * Prints one JSON object: sent (total and per kind), seconds, sentPerSec, sendErrors (EAGAIN/ENOBUFS, retried).
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

#define MAX_SOCKETS 1024
#define BATCH 32
#define LEN 56 /* IPv6 header 40 + UDP header 8 + payload 8 */

enum kind { EMBEDDED, SPOOFED, NATIVE, KINDS };
static const char *KIND_NAMES[KINDS] = {"embedded", "spoofed", "native"};

#include "flood-common.h"

int main(int argc, char **argv) {
  struct in_addr relay, source, server;
  struct in6_addr dst;
  if (inet_pton(AF_INET, arg(argc, argv, "--relay", ""), &relay) != 1 || inet_pton(AF_INET, arg(argc, argv, "--source", ""), &source) != 1 ||
      inet_pton(AF_INET, arg(argc, argv, "--server", ""), &server) != 1 || inet_pton(AF_INET6, arg(argc, argv, "--dst", ""), &dst) != 1) {
    fprintf(stderr, "usage: relay-flood --relay A.B.C.D --port P --source A.B.C.D --server A.B.C.D --dst IPV6 [--count N] [--rate R] [--sockets K] [--seed S]\n");
    return 2;
  }
  int port = atoi(arg(argc, argv, "--port", "3545"));
  long long count = atoll(arg(argc, argv, "--count", "100000"));
  double rate = atof(arg(argc, argv, "--rate", "20000"));
  int nsock = atoi(arg(argc, argv, "--sockets", "64"));
  rng = 0x9e3779b97f4a7c15ULL * (uint64_t)atoll(arg(argc, argv, "--seed", "1"));
  if (nsock < 1 || nsock > MAX_SOCKETS || count < 1 || rate < 0) return 2;

  int fds[MAX_SOCKETS];
  uint16_t ports[MAX_SOCKETS];
  for (int i = 0; i < nsock; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr = source, .sin_port = 0};
    socklen_t len = sizeof a;
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fds[i], (struct sockaddr *)&a, &len) < 0) {
      perror("relay-flood: socket");
      return 1;
    }
    ports[i] = ntohs(a.sin_port);
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = relay, .sin_port = htons(port)};
  static uint8_t bufs[BATCH][LEN];
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  long long sent = 0, per_kind[KINDS] = {0}, errors = 0;
  double t0 = now();
  int s = 0;
  while (sent < count) {
    int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
    for (int i = 0; i < n; i++) {
      uint8_t *p = bufs[i];
      memset(p, 0, LEN);
      p[0] = 0x60;
      p[5] = LEN - 40;
      p[6] = 17;
      p[7] = 64;
      uint32_t r = next() & 7;
      enum kind k = r < 4 ? EMBEDDED : r < 7 ? SPOOFED : NATIVE;
      if (k == EMBEDDED) {
        teredo_address(p + 8, server.s_addr, source.s_addr, ports[s]);
      } else if (k == SPOOFED) {
        uint32_t v4 = htonl(0x0b000000u | (next() & 0x00ffffffu)); /* 11.0.0.0/8: global, nobody in the lab */
        teredo_address(p + 8, server.s_addr, v4, (uint16_t)(1024 + next() % 60000));
      } else {
        uint32_t w = htonl(0x20010db8u), x = next();
        memcpy(p + 8, &w, 4);
        memcpy(p + 20, &x, 4);
      }
      memcpy(p + 24, &dst, 16);
      p[40] = 0x9c; /* UDP 40000 -> 9 (discard), checksum 0: the relay forwards, it does not check it */
      p[41] = 0x40;
      p[43] = 9;
      p[45] = LEN - 40;
      per_kind[k]++;
      iov[i] = (struct iovec){.iov_base = p, .iov_len = LEN};
      msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov[i], .msg_iovlen = 1}};
    }
    if (send_all(fds[s], msgs, n, &errors, "relay-flood: sendmmsg") < 0) return 1;
    sent += n;
    s = (s + 1) % nsock;
    if (rate > 0) {
      double due = t0 + sent / rate, t = now();
      if (due > t) usleep((useconds_t)((due - t) * 1e6));
    }
  }
  double secs = now() - t0;
  printf("{\"sent\":%lld,\"byKind\":{", sent);
  for (int k = 0; k < KINDS; k++) printf("%s\"%s\":%lld", k ? "," : "", KIND_NAMES[k], per_kind[k]);
  printf("},\"seconds\":%.3f,\"sentPerSec\":%.0f,\"sendErrors\":%lld}\n", secs, sent / secs, errors);
  return 0;
}
