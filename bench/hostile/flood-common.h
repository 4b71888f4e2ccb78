/*
 * Shared by the hostile-flood generators of bench/hostile (relay-flood.c, spoof-flood.c): a seeded xorshift
 * generator, a monotonic clock, argv lookup and the RFC 4380 §4 Teredo address layout. Header-only (static).
 */
#ifndef FLOOD_COMMON_H
#define FLOOD_COMMON_H
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static uint64_t rng;
static uint32_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i++)
    if (!strcmp(argv[i], name)) return argv[i + 1];
  return dflt;
}

/* RFC 4380 §4: 2001:0000 | server IPv4 | flags 0 | port ^ 0xffff | IPv4 ^ 0xffffffff (all network order). */
static void teredo_address(uint8_t *out, uint32_t server, uint32_t client, uint16_t port) {
  static const uint8_t prefix[4] = {0x20, 0x01, 0x00, 0x00};
  memcpy(out, prefix, 4);
  memcpy(out + 4, &server, 4);
  out[8] = 0;
  out[9] = 0;
  uint16_t p = htons(port) ^ 0xffff;
  memcpy(out + 10, &p, 2);
  uint32_t c = client ^ 0xffffffffu;
  memcpy(out + 12, &c, 4);
}

/* Sends msgs[0..n) with sendmmsg, retrying after 200 µs on EAGAIN / ENOBUFS (counted in *errors); -1 on any other error. */
static int send_all(int fd, struct mmsghdr *msgs, int n, long long *errors, const char *who) {
  int done = 0;
  while (done < n) {
    int m = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
    if (m < 0) {
      if (errno != EAGAIN && errno != ENOBUFS) {
        perror(who);
        return -1;
      }
      (*errors)++;
      usleep(200);
      continue;
    }
    done += m;
  }
  return 0;
}

#endif
