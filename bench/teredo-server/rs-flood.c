/*
 * rs-flood: Router Solicitation load generator for Teredo servers (RFC 4380 §5.3.2). Sends the RS a Windows
 * Vista+ or Miredo client sends (authentication header with an 8-byte nonce, then a bare RS from
 * fe80::ffff:ffff:ffff to ff02::2) from many UDP source ports, i.e. many "clients", and counts the Router
 * Advertisements that come back with the right nonce. C so that the generator is not what limits the rate.
 *
 *   rs-flood --server A.B.C.D [--port 3544] [--sockets 64] [--seconds 5] [--window 4] [--rate N] [--threads 1]
 *
 * --window W (default): closed loop, at most W RSs outstanding per socket; every RA answered sends the next
 *   RS, so the rate settles at what the server sustains. An RS unanswered for 200 ms counts as lost.
 * --rate N: open loop, N RSs per second spread over the sockets, whatever comes back.
 * --threads T: the sockets split over T threads, each with its own epoll (and 1/T of --rate). One thread
 *   costs about 5 µs of CPU per RS (mostly the kernel carrying each RS across veth and bridge into the server's
 *   socket), which caps it near 200 000 RS/s; with one thread per core a fast server is not measured against
 *   the generator's limit, and server and generator share the cores as the scheduler sees fit.
 * Prints one JSON object: sent, answered (RAs whose nonce echoes one we sent on that socket), late (answers to
 * RSs already counted lost), bad (anything else), lost, answered per second, and the RS -> RA round trip of the
 * answered RSs (p50 / p99 / max in µs, measured from the sendmmsg that sent the RS to the recvmmsg that got
 * the RA, so it includes the generator's own batching), and the generator's CPU time over all its threads (user +
 * system, µs): on a shared machine the closed loop's rate is bounded by server and generator together.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKETS 1024
#define MAX_THREADS 16
#define BATCH 64
#define LOSS_TIMEOUT_NS 200000000LL
#define SENT_RING 4096      /* send times of the last RSs per socket, by seq; older answers get no latency */
#define LATENCY_BUCKETS 100000 /* 1 µs each, up to 100 ms; longer round trips land in the last one */

/* Teredo payload of one RS: auth header (00 01, ID len 0, AU len 0, nonce at 4..11, confirmation 0), then
   IPv6 (payload length 8, next header 58, hop limit 255, fe80::ffff:ffff:ffff -> ff02::2) and the RS with
   its checksum (the nonce is outside the ICMPv6 checksum, so one checksum serves every RS). */
static const uint8_t RS_TEMPLATE[61] = {
    0x00, 0x01, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x00,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff,
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0x85, 0x00, 0x7d, 0x37, 0x00, 0x00, 0x00, 0x00,
};

struct flow {
    int fd;
    uint32_t next_seq;  /* sequence number of the next RS; nonce = socket index (4 bytes) + seq (4 bytes) */
    uint32_t acked_seq; /* every seq below this was answered or declared lost */
    int outstanding;
    long long last_activity_ns;
    long long sent_ns[SENT_RING];
};

/* One thread's share: sockets [first, first + count), its own epoll and counters. */
struct worker {
    pthread_t thread;
    int first, count, ep;
    long rate;
    unsigned long long sent, answered, late, bad, lost;
    unsigned long long latency_us[LATENCY_BUCKETS];
};

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return dflt;
}

static struct flow flows[MAX_SOCKETS];
static int window;
static long long start, end;

/* Sends n RSs on flow i (one sendmmsg). */
static void send_rs(struct worker *w, struct flow *f, uint32_t index, int n) {
    static __thread uint8_t bufs[BATCH][sizeof RS_TEMPLATE];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    if (n > BATCH) n = BATCH;
    for (int k = 0; k < n; k++) {
        memcpy(bufs[k], RS_TEMPLATE, sizeof RS_TEMPLATE);
        uint32_t idx = htonl(index), seq = htonl(f->next_seq + k);
        memcpy(bufs[k] + 4, &idx, 4);
        memcpy(bufs[k] + 8, &seq, 4);
        iov[k].iov_base = bufs[k];
        iov[k].iov_len = sizeof RS_TEMPLATE;
        memset(&msgs[k], 0, sizeof msgs[k]);
        msgs[k].msg_hdr.msg_iov = &iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int done = sendmmsg(f->fd, msgs, n, 0);
    if (done < 0) done = 0; /* ENOBUFS/EAGAIN: the loss timer retries */
    long long t = now_ns();
    for (int k = 0; k < done; k++) f->sent_ns[(f->next_seq + k) % SENT_RING] = t;
    f->next_seq += done;
    f->outstanding += done;
    w->sent += done;
}

/* Drains flow i; returns the number of valid RAs. */
static int drain(struct worker *w, struct flow *f, uint32_t index) {
    static __thread uint8_t bufs[BATCH][1500];
    long long t = now_ns();
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    int total = 0;
    for (;;) {
        for (int k = 0; k < BATCH; k++) {
            iov[k].iov_base = bufs[k];
            iov[k].iov_len = sizeof bufs[k];
            memset(&msgs[k], 0, sizeof msgs[k]);
            msgs[k].msg_hdr.msg_iov = &iov[k];
            msgs[k].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(f->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) break;
        for (int k = 0; k < n; k++) {
            const uint8_t *b = bufs[k];
            uint32_t idx, seq;
            /* An RA: auth header echoing our nonce, origin indication, IPv6 carrying ICMPv6 type 134. */
            if (msgs[k].msg_len < 13 + 8 + 40 + 16 || b[0] != 0 || b[1] != 1 || b[13] != 0 || b[14] != 0 || b[21 + 40] != 134) {
                w->bad++;
                continue;
            }
            memcpy(&idx, b + 4, 4);
            memcpy(&seq, b + 8, 4);
            if (ntohl(idx) != index || ntohl(seq) >= f->next_seq) {
                w->bad++;
                continue;
            }
            if (ntohl(seq) < f->acked_seq) { /* answered after we gave up on it */
                w->late++;
                continue;
            }
            w->answered++;
            total++;
            if (f->next_seq - ntohl(seq) <= SENT_RING) {
                long long us = (t - f->sent_ns[ntohl(seq) % SENT_RING]) / 1000;
                w->latency_us[us < 0 ? 0 : us >= LATENCY_BUCKETS ? LATENCY_BUCKETS - 1 : us]++;
            }
            if (f->outstanding > 0) f->outstanding--;
        }
        if (n < BATCH) break;
    }
    return total;
}

static void *run(void *arg) {
    struct worker *w = arg;
    long long tick_ns = 1000000; /* open loop: one batch per socket slice every millisecond */
    long long next_tick = start;
    double credit = 0;
    int rr = w->first;
    if (!w->rate)
        for (int i = w->first; i < w->first + w->count; i++) send_rs(w, &flows[i], i, window);

    static __thread struct epoll_event events[MAX_SOCKETS];
    for (;;) {
        long long t = now_ns();
        if (t >= end) break;
        if (w->rate) {
            while (t >= next_tick) {
                credit += (double)w->rate * tick_ns / 1e9;
                next_tick += tick_ns;
            }
            while (credit >= 1) {
                int n = credit > BATCH ? BATCH : (int)credit;
                send_rs(w, &flows[rr], rr, n);
                credit -= n;
                rr = rr + 1 == w->first + w->count ? w->first : rr + 1;
            }
        } else {
            for (int i = w->first; i < w->first + w->count; i++) {
                struct flow *f = &flows[i];
                if (f->outstanding > 0 && t - f->last_activity_ns > LOSS_TIMEOUT_NS) {
                    w->lost += f->outstanding;
                    f->outstanding = 0;
                    f->acked_seq = f->next_seq;
                    f->last_activity_ns = t;
                    send_rs(w, f, i, window);
                }
            }
        }
        int wait_ms = w->rate ? (int)((next_tick - t) / 1000000) : 10;
        int n = epoll_wait(w->ep, events, w->count, wait_ms < 0 ? 0 : wait_ms);
        for (int k = 0; k < n; k++) {
            uint32_t i = events[k].data.u32;
            int got = drain(w, &flows[i], i);
            if (got > 0) {
                flows[i].last_activity_ns = now_ns();
                if (!w->rate) send_rs(w, &flows[i], i, window - flows[i].outstanding);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *server = arg(argc, argv, "--server", NULL);
    int port = atoi(arg(argc, argv, "--port", "3544"));
    int nsock = atoi(arg(argc, argv, "--sockets", "64"));
    double seconds = atof(arg(argc, argv, "--seconds", "5"));
    window = atoi(arg(argc, argv, "--window", "4"));
    long rate = atol(arg(argc, argv, "--rate", "0"));
    int nthreads = atoi(arg(argc, argv, "--threads", "1"));
    if (!server || nsock < 1 || nsock > MAX_SOCKETS || seconds <= 0 || window < 1 || window > BATCH || nthreads < 1 || nthreads > MAX_THREADS || nthreads > nsock) {
        fprintf(stderr, "usage: rs-flood --server IPv4 [--port 3544] [--sockets 1..%d] [--seconds S] [--window 1..%d | --rate N] [--threads 1..%d]\n", MAX_SOCKETS, BATCH, MAX_THREADS);
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, server, &to.sin_addr) != 1) {
        fprintf(stderr, "rs-flood: bad server address %s\n", server);
        return 2;
    }
    static struct worker workers[MAX_THREADS];
    for (int t = 0; t < nthreads; t++) {
        struct worker *w = &workers[t];
        w->first = nsock * t / nthreads;
        w->count = nsock * (t + 1) / nthreads - w->first;
        w->rate = rate * (t + 1) / nthreads - rate * t / nthreads;
        w->ep = epoll_create1(0);
    }
    for (int i = 0, t = 0; i < nsock; i++) {
        if (i == workers[t].first + workers[t].count) t++;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
        /* connect: replies from anywhere but the server's primary address:3544 are filtered by the kernel. */
        if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
            perror("rs-flood: socket");
            return 1;
        }
        flows[i] = (struct flow){.fd = fd, .next_seq = 0, .acked_seq = 0, .outstanding = 0, .last_activity_ns = now_ns()};
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(workers[t].ep, EPOLL_CTL_ADD, fd, &ev);
    }

    start = now_ns();
    end = start + (long long)(seconds * 1e9);
    for (int t = 0; t < nthreads; t++)
        if (pthread_create(&workers[t].thread, NULL, run, &workers[t]) != 0) {
            perror("rs-flood: pthread_create");
            return 1;
        }
    unsigned long long sent = 0, answered = 0, late = 0, bad = 0, lost = 0;
    static unsigned long long latency_us[LATENCY_BUCKETS];
    for (int t = 0; t < nthreads; t++) {
        struct worker *w = &workers[t];
        pthread_join(w->thread, NULL);
        sent += w->sent;
        answered += w->answered;
        late += w->late;
        bad += w->bad;
        lost += w->lost;
        for (long b = 0; b < LATENCY_BUCKETS; b++) latency_us[b] += w->latency_us[b];
    }
    double elapsed = (now_ns() - start) / 1e9;
    unsigned long long timed = 0, seen = 0;
    long p50 = -1, p99 = -1, max = -1;
    for (long b = 0; b < LATENCY_BUCKETS; b++) timed += latency_us[b];
    for (long b = 0; b < LATENCY_BUCKETS; b++) {
        if (!latency_us[b]) continue;
        seen += latency_us[b];
        if (p50 < 0 && seen * 2 >= timed) p50 = b;
        if (p99 < 0 && seen * 100 >= timed * 99) p99 = b;
        max = b;
    }
    /* Late answers still in flight count as neither answered nor lost in closed-loop mode. */
    if (rate) lost = sent > answered ? sent - answered : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    long long cpu_us = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
    printf("{\"mode\":\"%s\",\"sockets\":%d,\"window\":%d,\"rate\":%ld,\"seconds\":%.3f,\"sent\":%llu,\"answered\":%llu,\"late\":%llu,\"bad\":%llu,\"lost\":%llu,\"answeredPerSec\":%.0f,"
           "\"cpuUs\":%lld,\"rttUs\":{\"p50\":%ld,\"p99\":%ld,\"max\":%ld}}\n",
           rate ? "rate" : "window", nsock, rate ? 0 : window, rate, elapsed, sent, answered, late, bad, lost, answered / elapsed, cpu_us, p50, p99, max);
    return 0;
}
