/*
 * hostile-flood: junk load generator for Teredo servers (RFC 4380 §5.3.1). Sends --count datagrams at --rate per
 * second to the server's port 3544, a seeded mix of what a server must survive and drop, and meanwhile keeps
 * sending valid Router Solicitations (§5.3.2, the RS of a Windows Vista+ or Miredo client, nonce in an auth
 * header) at --legit-rate from sockets of their own and counts the Router Advertisements that echo their nonce:
 * the clients a server must still serve while it is being flooded. C so that the generator is not the limit.
 *
 *   hostile-flood --server A.B.C.D [--secondary A.B.C.D] [--port 3544] [--count 1000000] [--rate 100000]
 *                 [--sockets 16] [--legit-rate 200] [--legit-sockets 8] [--seed 1] [--dump FILE [--source A.B.C.D]]
 *
 * --rate 0: as fast as the sockets take them. One datagram in 8 goes to --secondary when given.
 * The mix, by weight out of 32 (kinds in the JSON output):
 *   random      4  random bytes, 0..1400 long; half start with 00 01, 00 00 or 0x6_ to reach the header parsers
 *   truncated   4  a valid RS, bubble or echo cut short at a random length
 *   auth-wild   4  auth header (00 01) with random ID and AU lengths (up to 255 each), the datagram any length
 *   wrong-order 4  origin indication before the auth header, two auth headers, two origins, origin then nothing
 *   ipv6-liar   4  valid packet whose IPv6 payload length is larger (up to 65535) or smaller than what follows
 *   bubble-bad  6  bubbles from our own Teredo address to Teredo addresses of this server embedding special
 *                  IPv4s (0/8, 127/8, 10/8, 169.254/16, 172.16/12, 192.168/16, 224/4, 255.255.255.255, the
 *                  server itself with port 3544) or a global one with port 0 (not 240/4: our check refuses it but
 *                  Miredo's, which follows RFC 4380 §5.2.4's list, forwards it, so it would not compare like for like)
 *   echo-bad    3  ICMPv6 echo from our Teredo address to non-global IPv6 (::, ::1, fe80::/10, ff00::/8,
 *                  fec0::/10, ::ffff:0:0/96)
 *   spoofed     3  a Teredo source embedding someone else's mapping, another server's prefix, or a native
 *                  source toward an address that is not this server's client
 * Every kind must be dropped; a server that answers any of them shows up as junkReplies (datagrams received on
 * the flood sockets).
 *
 * Prints one JSON object: datagrams sent (total and per kind), seconds, sendErrors (EAGAIN/ENOBUFS, retried),
 * junkReplies, and for the legitimate RSs: sent, answered (RA with the right nonce), late (after 1 s), bad
 * (anything else), answeredPercent, and the RS -> RA round trip (p50 / p99 / max in µs, from just before the
 * send() to the kernel's receive timestamp of the RA, SO_TIMESTAMPNS, so that the generator's own scheduling on
 * a busy machine does not count). RSs still unanswered 1 s after the last datagram count as lost.
 * The flood goes out one sendmmsg batch per turn of the loop, the legitimate RSs are sent between batches and
 * their RAs read every 8 batches; a generator that falls behind its rate catches up by at most 20 ms worth at a
 * time (sentPerSec says what it achieved).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 256
#define BATCH 64
#define MAX_DGRAM 1500
#define LEGIT_RING 65536             /* send times of legitimate RSs by sequence number */
#define LEGIT_TIMEOUT_NS 1000000000LL /* an RS unanswered this long is lost; a later RA counts as late */
#define LATENCY_BUCKETS 1000000      /* 1 µs each, up to 1 s */

enum kind { RANDOM, TRUNCATED, AUTH_WILD, WRONG_ORDER, IPV6_LIAR, BUBBLE_BAD, ECHO_BAD, SPOOFED, KINDS };
static const char *KIND_NAMES[KINDS] = {"random", "truncated", "auth-wild", "wrong-order", "ipv6-liar", "bubble-bad", "echo-bad", "spoofed"};
static const int KIND_WEIGHTS[KINDS] = {4, 4, 4, 4, 4, 6, 3, 3}; /* sum 32 */

/* The RS template of rs-flood.c: auth header with an 8-byte nonce at 4..11, then fe80::ffff:ffff:ffff -> ff02::2 RS. */
static const uint8_t RS_TEMPLATE[61] = {
    0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff,
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0x85, 0x00, 0x7d, 0x37, 0x00, 0x00, 0x00, 0x00,
};

static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64*: reproducible with --seed */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}
static uint32_t rndn(uint32_t n) { return (uint32_t)(rnd() % n); }

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The clock of SO_TIMESTAMPNS, for the legitimate RSs' round trip. */
static long long real_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return dflt;
}

static uint32_t server_addr; /* host order */

/* Teredo address 2001:0:<server>:<flags>:<~port>:<~addr> (RFC 4380 §4). */
static void teredo_addr(uint8_t *o, uint32_t server, uint16_t flags, uint16_t port, uint32_t addr) {
    o[0] = 0x20, o[1] = 0x01, o[2] = 0, o[3] = 0;
    o[4] = server >> 24, o[5] = server >> 16, o[6] = server >> 8, o[7] = server;
    o[8] = flags >> 8, o[9] = flags;
    port ^= 0xffff, addr = ~addr;
    o[10] = port >> 8, o[11] = port;
    o[12] = addr >> 24, o[13] = addr >> 16, o[14] = addr >> 8, o[15] = addr;
}

static void ipv6_header(uint8_t *o, uint16_t plen, uint8_t next, uint8_t hops) {
    memset(o, 0, 8);
    o[0] = 0x60, o[4] = plen >> 8, o[5] = plen, o[6] = next, o[7] = hops;
}

/* One flood socket: its fd and its own mapping as the server sees it (the probe's address, the socket's port). */
struct flood_sock {
    int fd;
    uint32_t addr;
    uint16_t port;
};

/* Special IPv4s a server must never send to (RFC 4380 §5.2.4's list, and its own addresses: a loop). */
static uint32_t special4(void) {
    switch (rndn(9)) {
    case 0: return 0;
    case 1: return 0x7f000001;
    case 2: return 0x0a000000 | rndn(1 << 24);
    case 3: return 0xc0a80000 | rndn(1 << 16);
    case 4: return 0xe0000000 | rndn(1 << 28);
    case 5: return rndn(2) ? 0xa9fe0000 | rndn(1 << 16) : 0xac100000 | rndn(1 << 20); /* 169.254/16, 172.16/12 */
    case 6: return 0xffffffff;
    case 7: return server_addr;
    default: return server_addr + 1;
    }
}

/* A valid IPv6 packet from the socket's Teredo address: an RS (auth header first), a bubble or an echo. Returns its length. */
static int valid_packet(uint8_t *o, const struct flood_sock *s) {
    int r = rndn(3);
    if (r == 0) {
        memcpy(o, RS_TEMPLATE, sizeof RS_TEMPLATE);
        return sizeof RS_TEMPLATE;
    }
    uint8_t *ip = o;
    teredo_addr(ip + 8, server_addr, 0, s->port, s->addr);
    /* To a client of this server behind 10/8: even a packet that survives the mangling is dropped (not global). */
    teredo_addr(ip + 24, server_addr, 0, 40000 + rndn(1000), 0x0a000000 | rndn(1 << 24));
    if (r == 1) {
        ipv6_header(ip, 0, 59, 21); /* bubble: no next header */
        return 40;
    }
    ipv6_header(ip, 16, 58, 64);
    uint8_t *icmp = ip + 40;
    icmp[0] = 128, icmp[1] = 0, icmp[2] = 0, icmp[3] = 0;
    for (int k = 4; k < 16; k++) icmp[k] = rnd();
    return 56;
}

static int gen(uint8_t *o, const struct flood_sock *s, enum kind k) {
    int len, n;
    switch (k) {
    case RANDOM:
        len = rndn(1401);
        for (int i = 0; i < len; i++) o[i] = rnd();
        if (len >= 2 && rndn(2)) {
            int r = rndn(3);
            o[0] = r == 2 ? 0x60 | (o[0] & 0x0f) : 0, o[1] = r == 0 ? 1 : r == 1 ? 0 : o[1];
        }
        return len;
    case TRUNCATED:
        n = valid_packet(o, s);
        return rndn(n);
    case AUTH_WILD: {
        uint8_t id = rnd(), au = rnd();
        len = rndn(4) == 0 ? 13 + id + au + 40 + rndn(64) : rndn(600);
        for (int i = 0; i < len; i++) o[i] = rnd();
        if (len >= 4) o[0] = 0, o[1] = 1, o[2] = id, o[3] = au;
        int at = 13 + id + au; /* sometimes a plausible IPv6 header where the lengths say it starts */
        if (at + 40 <= len && rndn(2)) ipv6_header(o + at, rndn(2) ? 0 : rnd(), rndn(2) ? 59 : 58, 255);
        return len;
    }
    case WRONG_ORDER: {
        uint8_t origin[8] = {0, 0, rnd(), rnd(), rnd(), rnd(), rnd(), rnd()};
        int at = 0;
        switch (rndn(4)) {
        case 0: /* origin, then auth */
            memcpy(o, origin, 8), memcpy(o + 8, RS_TEMPLATE, 13), at = 21;
            break;
        case 1: /* auth, auth */
            memcpy(o, RS_TEMPLATE, 13), memcpy(o + 13, RS_TEMPLATE, 13), at = 26;
            break;
        case 2: /* origin, origin */
            memcpy(o, origin, 8), memcpy(o + 8, origin, 8), at = 16;
            break;
        default: /* auth, origin, auth */
            memcpy(o, RS_TEMPLATE, 13), memcpy(o + 13, origin, 8), memcpy(o + 21, RS_TEMPLATE, 13), at = 34;
        }
        if (rndn(4) == 0) return at; /* headers and nothing after them */
        return at + valid_packet(o + at, s);
    }
    case IPV6_LIAR: {
        n = valid_packet(o, s);
        int ip = o[0] == 0 ? 13 : 0; /* the RS carries its auth header */
        uint16_t real = n - ip - 40, lie = rndn(2) ? real + 1 + rndn(65535 - real) : (real ? rndn(real) : 1);
        o[ip + 4] = lie >> 8, o[ip + 5] = lie;
        return n;
    }
    case BUBBLE_BAD: {
        int at = rndn(4) == 0 ? 13 : 0; /* sometimes behind an auth header */
        if (at) memcpy(o, RS_TEMPLATE, 13);
        ipv6_header(o + at, 0, 59, 21);
        teredo_addr(o + at + 8, server_addr, 0, s->port, s->addr);
        /* A special IPv4 (the server's own: port 3544, a loop), or a global one with port 0. */
        uint32_t to4 = rndn(4) == 0 ? (server_addr & 0xffffff00) | rndn(256) : special4();
        uint16_t port = (to4 >> 8) == (server_addr >> 8) ? ((to4 == server_addr || to4 == server_addr + 1) ? 3544 : 0) : 1024 + rndn(60000);
        teredo_addr(o + at + 24, server_addr, rndn(2) ? 0x8000 : 0, port, to4);
        return at + 40;
    }
    case ECHO_BAD: {
        ipv6_header(o, 8, 58, 64);
        teredo_addr(o + 8, server_addr, 0, s->port, s->addr);
        uint8_t *d = o + 24;
        memset(d, 0, 16);
        switch (rndn(6)) {
        case 0: break;                                          /* :: */
        case 1: d[15] = 1; break;                               /* ::1 */
        case 2: d[0] = 0xfe, d[1] = 0x80, d[15] = rnd(); break; /* fe80::/10 */
        case 3: d[0] = 0xff, d[1] = rnd(), d[15] = 1; break;    /* multicast */
        case 4: d[0] = 0xfe, d[1] = 0xc0, d[15] = 1; break;     /* site-local */
        default: d[10] = d[11] = 0xff, d[12] = 192, d[15] = 1;  /* IPv4-mapped */
        }
        uint8_t *icmp = o + 40;
        icmp[0] = 128, icmp[1] = icmp[2] = icmp[3] = 0, icmp[4] = rnd(), icmp[5] = rnd(), icmp[6] = 0, icmp[7] = 1;
        return 48;
    }
    default: { /* SPOOFED */
        ipv6_header(o, 0, 59, 21);
        int r = rndn(3);
        if (r == 0) teredo_addr(o + 8, server_addr, 0, s->port + 1, s->addr);                /* someone else's mapping */
        else if (r == 1) teredo_addr(o + 8, 0x5db8e0a0 + rndn(16), 0, s->port, s->addr + 1); /* ... from another server */
        else memset(o + 8, 0, 16), o[8] = 0x20, o[9] = 0x01, o[10] = 0x0d, o[11] = 0xb8, o[23] = rnd(); /* native */
        teredo_addr(o + 24, r == 2 ? 0x5db8e0a0 : server_addr, 0, 1024 + rndn(60000), (server_addr & 0xffffff00) | rndn(256));
        return 40;
    }
    }
}

/* Legitimate clients: connected sockets, one RS at a time each at the legit rate. */
struct legit {
    int fd;
    uint32_t next_seq;
    long long sent_ns[LEGIT_RING];
    uint8_t answered[LEGIT_RING];
};
static unsigned long long legit_sent, legit_answered, legit_late, legit_bad, junk_replies, send_errors;
static unsigned long long latency[LATENCY_BUCKETS];

static void legit_send(struct legit *l, uint32_t index) {
    uint8_t b[sizeof RS_TEMPLATE];
    memcpy(b, RS_TEMPLATE, sizeof b);
    uint32_t idx = htonl(index), seq = htonl(l->next_seq);
    memcpy(b + 4, &idx, 4), memcpy(b + 8, &seq, 4);
    long long sent_at = real_ns();
    if (send(l->fd, b, sizeof b, MSG_DONTWAIT) != (ssize_t)sizeof b) {
        send_errors++;
        return;
    }
    l->sent_ns[l->next_seq % LEGIT_RING] = sent_at;
    l->answered[l->next_seq % LEGIT_RING] = 0;
    l->next_seq++;
    legit_sent++;
}

static void legit_drain(struct legit *l, uint32_t index) {
    uint8_t b[MAX_DGRAM];
    char control[CMSG_SPACE(sizeof(struct timespec))];
    for (;;) {
        struct iovec iov = {.iov_base = b, .iov_len = sizeof b};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
        ssize_t n = recvmsg(l->fd, &msg, MSG_DONTWAIT);
        if (n < 0) return;
        /* The kernel's receive time (SO_TIMESTAMPNS), so the generator's own scheduling does not count. */
        long long t = real_ns();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                t = ts.tv_sec * 1000000000LL + ts.tv_nsec;
            }
        }
        uint32_t idx, seq;
        /* An RA: auth header echoing our nonce, origin indication, IPv6 carrying ICMPv6 type 134. */
        if (n < 13 + 8 + 40 + 16 || b[0] != 0 || b[1] != 1 || b[13] != 0 || b[14] != 0 || b[21 + 40] != 134) {
            legit_bad++;
            continue;
        }
        memcpy(&idx, b + 4, 4), memcpy(&seq, b + 8, 4);
        idx = ntohl(idx), seq = ntohl(seq);
        if (idx != index || seq >= l->next_seq || l->next_seq - seq > LEGIT_RING || l->answered[seq % LEGIT_RING]) {
            legit_bad++;
            continue;
        }
        l->answered[seq % LEGIT_RING] = 1;
        long long us = (t - l->sent_ns[seq % LEGIT_RING]) / 1000;
        if (us * 1000 > LEGIT_TIMEOUT_NS) {
            legit_late++;
            continue;
        }
        legit_answered++;
        latency[us < 0 ? 0 : us >= LATENCY_BUCKETS ? LATENCY_BUCKETS - 1 : us]++;
    }
}

static void junk_drain(int fd) {
    uint8_t b[MAX_DGRAM];
    while (recv(fd, b, sizeof b, MSG_DONTWAIT) >= 0) junk_replies++;
}

/*
 * --dump FILE: writes the mix instead of sending it, for tests that feed it to an engine: per datagram one record
 * kind (u8, enum kind), source IPv4 (u32), source port (u16), length (u16), then the bytes; big-endian. The
 * sources are --source (default the lab's probe, 198.18.0.30) with ports 40000 + socket index.
 */
static int dump_mix(const char *path, long long count, int nsock, const char *source) {
    struct in_addr src;
    FILE *f = fopen(path, "wb");
    if (!f || inet_pton(AF_INET, source, &src) != 1) {
        fprintf(stderr, "hostile-flood: cannot write %s or bad --source %s\n", path, source);
        return 2;
    }
    int kind_table[32], w = 0;
    for (int k = 0; k < KINDS; k++)
        for (int j = 0; j < KIND_WEIGHTS[k]; j++) kind_table[w++] = k;
    static uint8_t buf[MAX_DGRAM];
    for (long long i = 0; i < count; i++) {
        struct flood_sock s = {.fd = -1, .addr = ntohl(src.s_addr), .port = 40000 + i % nsock};
        enum kind kd = kind_table[rndn(32)];
        int len = gen(buf, &s, kd);
        uint8_t head[9] = {kd, s.addr >> 24, s.addr >> 16, s.addr >> 8, s.addr, s.port >> 8, s.port, len >> 8, len};
        fwrite(head, 1, sizeof head, f);
        fwrite(buf, 1, len, f);
    }
    return fclose(f) == 0 ? 0 : 1;
}

static int open_udp(const struct sockaddr_in *connect_to) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in any = {.sin_family = AF_INET};
    if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof any) < 0 || (connect_to && connect(fd, (const struct sockaddr *)connect_to, sizeof *connect_to) < 0)) {
        perror("hostile-flood: socket");
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv) {
    const char *server = arg(argc, argv, "--server", NULL), *secondary = arg(argc, argv, "--secondary", NULL);
    const char *dump = arg(argc, argv, "--dump", NULL);
    int port = atoi(arg(argc, argv, "--port", "3544"));
    long long count = atoll(arg(argc, argv, "--count", "1000000"));
    long rate = atol(arg(argc, argv, "--rate", "100000"));
    int nsock = atoi(arg(argc, argv, "--sockets", "16"));
    double legit_rate = atof(arg(argc, argv, "--legit-rate", "200"));
    int nlegit = atoi(arg(argc, argv, "--legit-sockets", "8"));
    rng_state = strtoull(arg(argc, argv, "--seed", "1"), NULL, 10) * 0x9e3779b97f4a7c15ULL | 1;
    struct sockaddr_in to[2] = {{.sin_family = AF_INET, .sin_port = htons(port)}, {.sin_family = AF_INET, .sin_port = htons(port)}};
    if (!server || count < 0 || rate < 0 || nsock < 1 || nsock > MAX_SOCKETS || legit_rate < 0 || nlegit < 1 || nlegit > MAX_SOCKETS ||
        inet_pton(AF_INET, server, &to[0].sin_addr) != 1 || (secondary && inet_pton(AF_INET, secondary, &to[1].sin_addr) != 1)) {
        fprintf(stderr, "usage: hostile-flood --server IPv4 [--secondary IPv4] [--port 3544] [--count N] [--rate N|0] [--sockets 1..%d] "
                        "[--legit-rate N] [--legit-sockets 1..%d] [--seed N]\n", MAX_SOCKETS, MAX_SOCKETS);
        return 2;
    }
    server_addr = ntohl(to[0].sin_addr.s_addr);
    if (dump) return dump_mix(dump, count, nsock, arg(argc, argv, "--source", "198.18.0.30"));

    static struct flood_sock socks[MAX_SOCKETS];
    for (int i = 0; i < nsock; i++) {
        socks[i].fd = open_udp(NULL);
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        /* Our mapping as the server sees it: the address the route to it picks, and the bound port. */
        int probe = open_udp(&to[0]);
        getsockname(probe, (struct sockaddr *)&me, &ml);
        close(probe);
        socks[i].addr = ntohl(me.sin_addr.s_addr);
        ml = sizeof me;
        getsockname(socks[i].fd, (struct sockaddr *)&me, &ml);
        socks[i].port = ntohs(me.sin_port);
    }
    static struct legit legits[MAX_SOCKETS];
    for (int i = 0; i < nlegit; i++) {
        legits[i].fd = open_udp(&to[0]);
        int on = 1;
        setsockopt(legits[i].fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }

    static uint8_t bufs[BATCH][MAX_DGRAM];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int kinds_of[BATCH];
    unsigned long long by_kind[KINDS] = {0};
    int kind_table[32], w = 0;
    for (int k = 0; k < KINDS; k++)
        for (int j = 0; j < KIND_WEIGHTS[k]; j++) kind_table[w++] = k;

    long long start = now_ns(), next_tick = start, tick_ns = 1000000, legit_next = start;
    long long legit_gap = legit_rate > 0 ? (long long)(1e9 / legit_rate) : 0;
    double credit = rate ? 0 : BATCH;
    long long sent = 0;
    int rr = 0, lrr = 0, pending = 0, pending_sock = 0;
    unsigned turns = 0;
    while (sent < count) {
        long long t = now_ns();
        if (rate) {
            while (t >= next_tick) credit += (double)rate * tick_ns / 1e9, next_tick += tick_ns;
            /* Behind schedule (descheduled on a busy machine): catch up by at most 20 ms worth, not in one burst. */
            if (credit > rate / 50.0 + BATCH) credit = rate / 50.0 + BATCH;
        } else {
            credit = BATCH;
        }
        while (legit_gap && t >= legit_next) {
            legit_send(&legits[lrr], lrr);
            lrr = (lrr + 1) % nlegit;
            legit_next += legit_gap;
        }
        int blocked = 0;
        /* One batch per turn, so the legitimate RSs are sent and their RAs read between any two batches. */
        if (credit >= 1 && sent < count) {
            /* Build a batch on one socket (kept across EAGAIN so the same datagrams are retried). */
            if (!pending) {
                int n = credit > BATCH ? BATCH : (int)credit;
                if (n > count - sent) n = count - sent;
                pending_sock = rr;
                rr = (rr + 1) % nsock;
                for (int k = 0; k < n; k++) {
                    enum kind kd = kind_table[rndn(32)];
                    kinds_of[k] = kd;
                    iov[k].iov_base = bufs[k];
                    iov[k].iov_len = gen(bufs[k], &socks[pending_sock], kd);
                    memset(&msgs[k], 0, sizeof msgs[k]);
                    msgs[k].msg_hdr.msg_iov = &iov[k];
                    msgs[k].msg_hdr.msg_iovlen = 1;
                    msgs[k].msg_hdr.msg_name = &to[secondary && rndn(8) == 0 ? 1 : 0];
                    msgs[k].msg_hdr.msg_namelen = sizeof to[0];
                }
                pending = n;
            }
            int done = sendmmsg(socks[pending_sock].fd, msgs, pending, 0);
            if (done <= 0) {
                send_errors++;
                blocked = 1; /* EAGAIN/ENOBUFS: wait a little, then retry */
            } else {
                for (int k = 0; k < done; k++) by_kind[kinds_of[k]]++;
                sent += done;
                credit -= done;
                if (done < pending) { /* keep the rest for the next try */
                    memmove(msgs, msgs + done, (pending - done) * sizeof msgs[0]);
                    memmove(kinds_of, kinds_of + done, (pending - done) * sizeof kinds_of[0]);
                }
                pending -= done;
            }
        }
        /* RAs carry their kernel receive time, so reading them every few batches costs no accuracy. */
        if ((++turns & 7) == 0)
            for (int i = 0; i < nlegit; i++) legit_drain(&legits[i], i);
        if ((turns & 63) == 0)
            for (int i = 0; i < nsock; i++) junk_drain(socks[i].fd);
        if (credit >= 1 && !blocked) continue;
        long long until = rate ? next_tick : now_ns();
        if (legit_gap && legit_next < until) until = legit_next;
        long long wait = until - now_ns();
        if (wait > 0 || blocked) {
            struct timespec ts = {0, wait > 0 ? wait : 50000};
            nanosleep(&ts, NULL);
        }
    }
    double flood_seconds = (now_ns() - start) / 1e9;
    /* Answers to the last RSs: wait out the loss timeout, sending nothing more. */
    long long end = now_ns() + LEGIT_TIMEOUT_NS;
    while (now_ns() < end) {
        for (int i = 0; i < nlegit; i++) legit_drain(&legits[i], i);
        for (int i = 0; i < nsock; i++) junk_drain(socks[i].fd);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }

    unsigned long long timed = 0, seen = 0;
    long p50 = -1, p99 = -1, max = -1;
    for (long b = 0; b < LATENCY_BUCKETS; b++) timed += latency[b];
    for (long b = 0; b < LATENCY_BUCKETS; b++) {
        if (!latency[b]) continue;
        seen += latency[b];
        if (p50 < 0 && seen * 2 >= timed) p50 = b;
        if (p99 < 0 && seen * 100 >= timed * 99) p99 = b;
        max = b;
    }
    printf("{\"datagrams\":%lld,\"seconds\":%.3f,\"sentPerSec\":%.0f,\"rate\":%ld,\"sendErrors\":%llu,\"junkReplies\":%llu,\"byKind\":{",
           sent, flood_seconds, sent / flood_seconds, rate, send_errors, junk_replies);
    for (int k = 0; k < KINDS; k++) printf("%s\"%s\":%llu", k ? "," : "", KIND_NAMES[k], by_kind[k]);
    printf("},\"legit\":{\"sent\":%llu,\"answered\":%llu,\"late\":%llu,\"bad\":%llu,\"answeredPercent\":%.2f,\"rttUs\":{\"p50\":%ld,\"p99\":%ld,\"max\":%ld}}}\n",
           legit_sent, legit_answered, legit_late, legit_bad, legit_sent ? 100.0 * legit_answered / legit_sent : 0.0, p50, p99, max);
    return 0;
}
