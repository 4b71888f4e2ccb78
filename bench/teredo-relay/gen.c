/*
 * Load generator for bench/teredo-relay/run.mjs (runs inside the benchmark's namespaces only). Sends one fixed
 * payload as UDP datagrams flat out with sendmmsg, 64 per call, for `seconds`, from an optional bound address
 * and port, then prints how many it sent.
 *   gen 4 <dst ipv4> <port> <seconds> <bind ipv4> <bind port> <payload hex>   Teredo datagrams to the relay
 *   gen 6 <dst ipv6> <port> <seconds> - 0 <payload hex>                        IPv6 UDP the kernel routes into TUN
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

static int hexval(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: gen 4|6 <dst> <port> <seconds> <bind addr|-> <bind port> <payload hex>\n");
    return 2;
  }
  int v6 = argv[1][0] == '6';
  double seconds = atof(argv[4]);
  size_t hexlen = strlen(argv[7]);
  size_t len = hexlen / 2;
  unsigned char *payload = malloc(len ? len : 1);
  for (size_t i = 0; i < len; i++) {
    int hi = hexval(argv[7][2 * i]), lo = hexval(argv[7][2 * i + 1]);
    if (hi < 0 || lo < 0) return 2;
    payload[i] = (unsigned char)(hi << 4 | lo);
  }
  struct sockaddr_storage to, from;
  memset(&to, 0, sizeof to);
  memset(&from, 0, sizeof from);
  socklen_t tolen, fromlen;
  if (v6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&to;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(atoi(argv[3]));
    if (inet_pton(AF_INET6, argv[2], &s->sin6_addr) != 1) return 2;
    tolen = sizeof *s;
    fromlen = sizeof(struct sockaddr_in6);
    ((struct sockaddr_in6 *)&from)->sin6_family = AF_INET6;
  } else {
    struct sockaddr_in *s = (struct sockaddr_in *)&to;
    s->sin_family = AF_INET;
    s->sin_port = htons(atoi(argv[3]));
    if (inet_pton(AF_INET, argv[2], &s->sin_addr) != 1) return 2;
    tolen = sizeof *s;
    struct sockaddr_in *f = (struct sockaddr_in *)&from;
    f->sin_family = AF_INET;
    f->sin_port = htons(atoi(argv[6]));
    if (strcmp(argv[5], "-") != 0 && inet_pton(AF_INET, argv[5], &f->sin_addr) != 1) return 2;
    fromlen = sizeof *f;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!v6 && bind(fd, (struct sockaddr *)&from, fromlen) != 0) {
    perror("bind");
    return 1;
  }
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
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
  while (now() < end) {
    int n = sendmmsg(fd, msgs, BATCH, 0);
    if (n > 0) sent += n;
  }
  printf("%lld\n", sent);
  return 0;
}
