/*
 * rs-flood6: Router Solicitation flood for RA senders (RFC 4861 §6.2.6), the "1000 RS/s from random
 * link-local sources". Writes whole Ethernet frames with AF_PACKET (the only way to send from addresses the
 * host does not have): Ethernet to 33:33:00:00:00:02, IPv6 from fe80::<64 random bits> to ff02::2 with hop
 * limit 255, and a valid RS (§4.1, checksum over the pseudo-header, §6.1.1) carrying a Source Link-Layer
 * Address option with this interface's MAC, so the router can answer each one by unicast without a
 * Neighbor Solicitation (§6.2.6: it MAY use the SLLAO).
 *
 *   rs-flood6 --interface NAME [--rate N (0 = as fast as possible)] [--seconds S]
 *
 * Paced in 1 ms slices. Prints one JSON object: sent, seconds, sentPerSec.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define FRAME_LEN (14 + 40 + 16)

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint16_t checksum(const uint8_t *src, const uint8_t *dst, const uint8_t *icmp, int len) {
  uint32_t sum = 0;
  for (int i = 0; i < 16; i += 2) sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
  sum += (uint32_t)len + 58; /* upper-layer length, next header ICMPv6 */
  for (int i = 0; i < len; i += 2) sum += (uint32_t)(icmp[i] << 8 | (i + 1 < len ? icmp[i + 1] : 0));
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

int main(int argc, char **argv) {
  const char *ifname = NULL;
  double rate = 1000, seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--interface")) ifname = argv[i + 1];
    else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else { fprintf(stderr, "rs-flood6: unknown option %s\n", argv[i]); return 2; }
  }
  if (!ifname) { fprintf(stderr, "usage: rs-flood6 --interface NAME [--rate N] [--seconds S]\n"); return 2; }
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IPV6));
  if (fd < 0) { perror("socket"); return 1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
  uint8_t mac[6];
  memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IPV6), .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };
  uint8_t frame[FRAME_LEN] = { 0x33, 0x33, 0, 0, 0, 2 };
  memcpy(to.sll_addr, frame, 6);
  memcpy(frame + 6, mac, 6);
  frame[12] = 0x86; frame[13] = 0xdd;
  uint8_t *ip = frame + 14, *icmp = ip + 40;
  ip[0] = 0x60; ip[4] = 0; ip[5] = 16; ip[6] = 58; ip[7] = 255;
  uint8_t *src = ip + 8, *dst = ip + 24;
  src[0] = 0xfe; src[1] = 0x80;
  dst[0] = 0xff; dst[1] = 0x02; dst[15] = 2;
  icmp[0] = 133; icmp[8] = 1; icmp[9] = 1;
  memcpy(icmp + 10, mac, 6);

  uint8_t rnd[8 * 1024];
  size_t rnd_at = sizeof rnd;
  long sent = 0;
  double start = now_s(), end = start + seconds;
  for (double t = start; t < end; t = now_s()) {
    long due = rate > 0 ? (long)((t - start) * rate) + 1 : sent + 64;
    while (sent < due) {
      if (rnd_at == sizeof rnd) { if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) { perror("getrandom"); return 1; } rnd_at = 0; }
      memcpy(src + 8, rnd + rnd_at, 8);
      rnd_at += 8;
      icmp[2] = icmp[3] = 0;
      uint16_t c = checksum(src, dst, icmp, 16);
      icmp[2] = (uint8_t)(c >> 8); icmp[3] = (uint8_t)c;
      if (sendto(fd, frame, sizeof frame, 0, (struct sockaddr *)&to, sizeof to) < 0) { perror("sendto"); return 1; }
      sent++;
    }
    if (rate > 0) { struct timespec ms = { 0, 1000000 }; nanosleep(&ms, NULL); }
  }
  double took = now_s() - start;
  printf("{\"sent\":%ld,\"seconds\":%.3f,\"sentPerSec\":%.0f}\n", sent, took, (double)sent / took);
  return 0;
}
