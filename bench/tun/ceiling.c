/*
 * The "plain C loop" ceiling of bench/tun/run.mjs: one packet per syscall, no batching, no event loop.
 *   ceiling tun2udp <tun> <seconds>       read() from TUN, sendto() each packet to 10.74.0.2:9 (a veth sink)
 *   ceiling udp2tun <tun> <seconds> <port> recv() on 127.0.0.1:<port>, write() each datagram into TUN
 * Measures like candidate.mjs and prints the same JSON line {"packets":..,"seconds":..,"cpu":..}: tun2udp
 * waits for a line on stdin, then drains the pre-filled TUN queue (first to last packet); udp2tun counts for
 * <seconds> after the first packet + 300 ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int tun2udp = strcmp(argv[1], "tun2udp") == 0;
  double seconds = atof(argv[3]);
  int tun = open("/dev/net/tun", O_RDWR);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[2], IFNAMSIZ - 1);
  if (tun < 0 || ioctl(tun, TUNSETIFF, &ifr) < 0) {
    perror("tun");
    return 1;
  }
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  if (tun2udp) {
    addr.sin_port = htons(9);
    inet_pton(AF_INET, "10.74.0.2", &addr.sin_addr);
  } else {
    addr.sin_port = htons(atoi(argv[4]));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(udp, (struct sockaddr *)&addr, sizeof addr) < 0) {
      perror("bind");
      return 1;
    }
  }
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (tun2udp && !fgets(line, sizeof line, stdin)) return 1; /* run.mjs fills the TUN queue, then says go */
  int in = tun2udp ? tun : udp;
  struct pollfd pfd = {.fd = in, .events = POLLIN};
  unsigned char buf[2048];
  long long count = 0, c0 = 0;
  double first = 0, last = 0, t0 = 0, cpu0 = 0;
  for (;;) {
    ssize_t n = poll(&pfd, 1, 200) > 0 ? read(in, buf, sizeof buf) : 0;
    double t = now();
    if (n > 0) {
      ssize_t w = tun2udp ? sendto(udp, buf, n, 0, (struct sockaddr *)&addr, sizeof addr) : write(tun, buf, n);
      if (w > 0) count++;
      last = t;
      if (first == 0) {
        first = t;
        cpu0 = cpu();
      }
    }
    if (tun2udp) {
      if (first != 0 && n <= 0) { /* drained: first to last packet */
        printf("{\"packets\":%lld,\"seconds\":%.3f,\"cpu\":%.1f}\n", count, last - first, 100 * (cpu() - cpu0) / (last - first));
        return 0;
      }
      continue;
    }
    if (first != 0 && t0 == 0 && t - first >= 0.3) {
      t0 = t;
      c0 = count;
      cpu0 = cpu();
    }
    if (t0 != 0 && t - t0 >= seconds) {
      printf("{\"packets\":%lld,\"seconds\":%.3f,\"cpu\":%.1f}\n", count - c0, t - t0, 100 * (cpu() - cpu0) / (t - t0));
      return 0;
    }
  }
}
