/*
 * Load generator for bench/tun/run.mjs (runs inside the benchmark namespace only). Sends UDP flat out with
 * sendmmsg, 64 datagrams per call, for `seconds` or until `max-packets` are sent, then prints how many it sent.
 *   gen 6 <ipv6> <port> <seconds>  16-byte payloads over IPv6: 64-byte IPv6 packets the kernel routes into TUN
 *   gen 4 <ipv4> <port> <seconds>  64-byte payloads over IPv4, each a complete IPv6/UDP packet that the
 *                                  candidate writes into TUN (destination fd00:7469:cc::1, blackholed)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: gen 6|4 <addr> <port> <seconds> [max-packets]\n");
    return 2;
  }
  int v6 = argv[1][0] == '6';
  double seconds = atof(argv[4]);
  long long max = argc == 6 ? atoll(argv[5]) : -1;
  struct sockaddr_storage to;
  memset(&to, 0, sizeof to);
  socklen_t tolen;
  if (v6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&to;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(atoi(argv[3]));
    if (inet_pton(AF_INET6, argv[2], &s->sin6_addr) != 1) return 2;
    tolen = sizeof *s;
  } else {
    struct sockaddr_in *s = (struct sockaddr_in *)&to;
    s->sin_family = AF_INET;
    s->sin_port = htons(atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &s->sin_addr) != 1) return 2;
    tolen = sizeof *s;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  /* The IPv6 packet carried in IPv4 mode: version 6, payload 24 (UDP 8 + 16), next header UDP, hop limit 64. */
  unsigned char payload[64];
  memset(payload, 0, sizeof payload);
  size_t len = 16;
  if (!v6) {
    len = 64;
    payload[0] = 0x60;
    payload[5] = 24;
    payload[6] = 17;
    payload[7] = 64;
    inet_pton(AF_INET6, "fd00:7469:bb::2", payload + 8);
    inet_pton(AF_INET6, "fd00:7469:cc::1", payload + 24);
    payload[41] = 9;  /* source port 9 */
    payload[43] = 9;  /* destination port 9 */
    payload[45] = 24; /* UDP length */
  }
  struct iovec iov[BATCH];
  struct mmsghdr msgs[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = payload;
    iov[i].iov_len = len;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &to;
    msgs[i].msg_hdr.msg_namelen = tolen;
  }
  long long sent = 0;
  double end = now() + seconds;
  while (now() < end && (max < 0 || sent < max)) {
    int n = sendmmsg(fd, msgs, max < 0 || max - sent >= BATCH ? BATCH : (int)(max - sent), 0);
    if (n > 0) sent += n;
  }
  printf("%lld\n", sent);
  return 0;
}
