/*
 * IPv4 UDP sockets for the teredo_io addon: what node:dgram cannot give a busy Teredo server.
 *  - receiving goes through the shared poller (poller.c, kind UDP4): one recvmmsg() and one call into
 *    JavaScript per batch of up to batchMax datagrams, instead of one recvmsg() and one callback per datagram;
 *  - sending is udpSendBatch(): the datagrams JavaScript queued during one turn of the event loop leave in
 *    sendmmsg() calls (io_send_batch, common.c), each with its own destination;
 *  - IP_MTU_DISCOVER = IP_PMTUDISC_DONT by default, so the DF bit is clear: RFC 4380 §5.1.2 says Teredo
 *    datagrams SHOULD NOT set it (a Teredo node keeps its own MTU; a router on the path may fragment).
 *    Linux sets DF on UDP by default and node:dgram has no way to change it;
 *  - SO_RCVBUF / SO_SNDBUF, with SO_*BUFFORCE when the size is above net.core.[rw]mem_max and we may;
 *  - the multicast and TTL options of the DatagramPort interface (src/io/ports.ts) as plain setsockopt()s;
 *  - offloads (issue 18), asked for with udpOpen's `offload`: UDP_GRO on receive (the poller's KIND_UDP4_GRO
 *    cuts a coalesced datagram back into its segments), and UDP GSO on send: consecutive datagrams of one
 *    batch to one destination, all of one size but the last, leave as ONE message with a UDP_SEGMENT cmsg, in
 *    the same sendmmsg() as the batch's other datagrams.
 *    An egress device that refuses it (EIO) turns GSO off for the socket; a group the kernel refuses for
 *    another reason (EMSGSIZE / EINVAL: a segment does not fit the route's MTU, which a plain datagram with
 *    DF clear may, fragmented) is resent datagram by datagram.
 * All calls take the fd that udpOpen() returned; closing is the poller's (pollerClose) or closeFd's job.
 */
#define _GNU_SOURCE
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_META 16 /* per message: u32 length, u32 IPv4 address, u32 port, i32 errno out (host order) */
#define GSO_SEGS 64  /* datagrams per GSO send: the kernel's UDP_MAX_SEGMENTS before Linux 6.9 */
#define GSO_BYTES 65000 /* payload bytes per GSO send (IPv4 total length is 16 bits) */
#define SEND_CHUNK 64 /* sendmmsg() entries per call (datagrams or GSO groups) */

/* Option numbers of udpSetOption, shared with src/io/native.ts. */
enum { OPT_TTL = 0, OPT_MULTICAST_TTL = 1, OPT_MULTICAST_LOOP = 2, OPT_MULTICAST_IF = 3 };

static int set_int(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof value);
}

static int get_int(int fd, int level, int opt) {
  int value = 0;
  socklen_t len = sizeof value;
  return getsockopt(fd, level, opt, &value, &len) < 0 ? -1 : value;
}

/*
 * Sets a buffer size; the kernel caps SO_RCVBUF/SO_SNDBUF at net.core.[rw]mem_max, so when the result is short
 * and we hold CAP_NET_ADMIN, the FORCE variant sets it anyway. The kernel doubles the value for its overhead
 * (socket(7)); the effective size is what udpOpen reports.
 */
static int set_buffer(int fd, int opt, int force_opt, int bytes) {
  if (set_int(fd, SOL_SOCKET, opt, bytes) < 0) return -1;
  if (get_int(fd, SOL_SOCKET, opt) / 2 < bytes) set_int(fd, SOL_SOCKET, force_opt, bytes); /* EPERM: keep the cap */
  return 0;
}

static napi_value open_result(napi_env env, int fd) {
  struct sockaddr_in bound;
  socklen_t len = sizeof bound;
  napi_value out;
  if (getsockname(fd, (struct sockaddr *)&bound, &len) < 0) {
    int e = errno;
    close(fd);
    return io_throw(env, "IO_UDP_OPEN", "getsockname", e, NULL);
  }
  NAPI_CALL(env, napi_create_object(env, &out));
  napi_set_named_property(env, out, "fd", io_int(env, fd));
  napi_set_named_property(env, out, "address", io_int(env, ntohl(bound.sin_addr.s_addr)));
  napi_set_named_property(env, out, "port", io_int(env, ntohs(bound.sin_port)));
  napi_set_named_property(env, out, "receiveBufferSize", io_int(env, get_int(fd, SOL_SOCKET, SO_RCVBUF)));
  napi_set_named_property(env, out, "sendBufferSize", io_int(env, get_int(fd, SOL_SOCKET, SO_SNDBUF)));
  return out;
}

/* UDP_GRO on, and whether the kernel takes UDP_SEGMENT (a zero size probes it): 1 when both work. */
static int set_offload(int fd) {
  return set_int(fd, SOL_UDP, UDP_GRO, 1) == 0 && set_int(fd, SOL_UDP, UDP_SEGMENT, 0) == 0;
}

/*
 * udpOpen(address, port, netns, reuseAddr, receiveBufferSize, sendBufferSize, dontFragment, offload)
 *   -> { fd, address, port, receiveBufferSize, sendBufferSize, offload }
 * `offload` in the result says whether UDP_GRO and UDP_SEGMENT work on this socket (see the top).
 * address is a uint32 (0 = any), buffer sizes 0 = the kernel's default. A failing bind throws with code
 * IO_UDP_BIND and the errno (EADDRINUSE, EADDRNOTAVAIL, EACCES), any other failure with IO_UDP_OPEN.
 */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  uint32_t address;
  int32_t port, rcvbuf, sndbuf;
  int reuse, dont_fragment, offload;
  char netns[4096];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 7 || napi_get_value_uint32(env, argv[0], &address) != napi_ok || !io_get_int(env, argv[1], &port) ||
      port < 0 || port > 65535 || !io_get_string(env, argv[2], netns, sizeof netns) ||
      !io_get_bool(env, argv[3], &reuse) || !io_get_int(env, argv[4], &rcvbuf) || rcvbuf < 0 ||
      !io_get_int(env, argv[5], &sndbuf) || sndbuf < 0 || !io_get_bool(env, argv[6], &dont_fragment) ||
      !io_get_bool(env, argv[7], &offload))
    return io_throw_type(env, "udpOpen(address: uint32, port 0..65535, netns | null, reuseAddr, receiveBufferSize >= 0, "
                              "sendBufferSize >= 0, dontFragment, offload)");
  int saved;
  if (io_netns_enter(netns, &saved) < 0) return io_throw(env, "IO_NETNS", "setns", errno, netns);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  io_netns_leave(saved);
  if (fd < 0) return io_throw(env, "IO_UDP_OPEN", "socket(AF_INET, SOCK_DGRAM)", errno, NULL);
  const char *failed = NULL;
  int pmtu = dont_fragment ? IP_PMTUDISC_DO : IP_PMTUDISC_DONT;
  if (reuse && set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0) failed = "setsockopt(SO_REUSEADDR)";
  else if (set_int(fd, IPPROTO_IP, IP_MTU_DISCOVER, pmtu) < 0) failed = "setsockopt(IP_MTU_DISCOVER)";
  else if (rcvbuf > 0 && set_buffer(fd, SO_RCVBUF, SO_RCVBUFFORCE, rcvbuf) < 0) failed = "setsockopt(SO_RCVBUF)";
  else if (sndbuf > 0 && set_buffer(fd, SO_SNDBUF, SO_SNDBUFFORCE, sndbuf) < 0) failed = "setsockopt(SO_SNDBUF)";
  if (failed) {
    int e = errno;
    close(fd);
    return io_throw(env, "IO_UDP_OPEN", failed, e, NULL);
  }
  struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(address)};
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    int e = errno;
    char where[32];
    close(fd);
    snprintf(where, sizeof where, "%s:%d", inet_ntoa(local.sin_addr), port);
    return io_throw(env, "IO_UDP_BIND", "bind", e, where);
  }
  if (offload && !set_offload(fd)) {
    set_int(fd, SOL_UDP, UDP_GRO, 0);
    offload = 0;
  }
  napi_value out = open_result(env, fd);
  if (out) {
    napi_value jo;
    napi_get_boolean(env, offload != 0, &jo);
    napi_set_named_property(env, out, "offload", jo);
  }
  return out;
}

/* One datagram's destination from its record (u32 length, u32 IPv4 address, u32 port); -1 for a port above 65535. */
static int udp_dest(const uint8_t *record, const uint8_t *packet, uint32_t len, struct sockaddr_storage *to, socklen_t *tolen) {
  uint32_t rec[3];
  memcpy(rec, record, sizeof rec);
  if (rec[2] > 65535) return -1;
  struct sockaddr_in *sin = (struct sockaddr_in *)to;
  *sin = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)rec[2]), .sin_addr.s_addr = htonl(rec[1])};
  *tolen = sizeof *sin;
  return 0;
}

static uint32_t rec_word(const uint8_t *meta, int i, int w) {
  uint32_t v;
  memcpy(&v, meta + (size_t)i * SEND_META + 4 * (size_t)w, 4);
  return v;
}

/* How many records from i on form one GSO send: one destination, one size (the last may be shorter). */
static int gso_group(const uint8_t *meta, int i, int count) {
  uint32_t size = rec_word(meta, i, 0), total = size;
  int n = 1;
  while (i + n < count && n < GSO_SEGS && size > 0) {
    uint32_t len = rec_word(meta, i + n, 0);
    if (rec_word(meta, i + n, 1) != rec_word(meta, i, 1) || rec_word(meta, i + n, 2) != rec_word(meta, i, 2) || len > size ||
        len == 0 || total + len > GSO_BYTES || rec_word(meta, i + n - 1, 0) != size)
      break;
    total += len;
    n++;
  }
  return n;
}

/* A sendmmsg() entry of the GSO path: one datagram, or a group of `n` the kernel cuts into `size`-byte segments. */
typedef struct {
  int first, n;   /* records first .. first + n - 1 */
  size_t at;      /* their bytes' offset in data */
  union {
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
  } control;      /* UDP_SEGMENT, for a group */
} gso_entry_t;

static void mark_records(uint8_t *meta, int first, int n, int32_t e) {
  for (int k = first; k < first + n; k++) memcpy(meta + (size_t)k * SEND_META + 12, &e, 4);
}

/* Fills entries from record *i on (at most SEND_CHUNK); returns how many, or -1 for a bad record. */
static int gso_entries(const uint8_t *data, size_t dlen, const uint8_t *meta, int count, int gso, int *i, size_t *at,
                       gso_entry_t *e, struct mmsghdr *msgs, struct iovec *iovs, struct sockaddr_storage *tos) {
  int m = 0;
  while (*i < count && m < SEND_CHUNK) {
    int n = gso ? gso_group(meta, *i, count) : 1;
    size_t total = 0;
    for (int k = *i; k < *i + n; k++) total += rec_word(meta, k, 0);
    if (total > dlen - *at) return -1;
    socklen_t tolen;
    if (udp_dest(meta + (size_t)*i * SEND_META, data + *at, (uint32_t)total, &tos[m], &tolen) < 0) return -1;
    iovs[m] = (struct iovec){.iov_base = (void *)(data + *at), .iov_len = total};
    msgs[m] = (struct mmsghdr){.msg_hdr = {.msg_name = &tos[m], .msg_namelen = tolen, .msg_iov = &iovs[m], .msg_iovlen = 1}};
    e[m].first = *i;
    e[m].n = n;
    e[m].at = *at;
    if (n > 1) {
      memset(&e[m].control, 0, sizeof e[m].control);
      msgs[m].msg_hdr.msg_control = e[m].control.bytes;
      msgs[m].msg_hdr.msg_controllen = sizeof e[m].control.bytes;
      struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[m].msg_hdr);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
      uint16_t size = (uint16_t)rec_word(meta, *i, 0);
      memcpy(CMSG_DATA(c), &size, sizeof size);
    }
    *at += total;
    *i += n;
    m++;
  }
  return m;
}

/*
 * The batch with GSO (`*gso` = 1): ONE sendmmsg() per SEND_CHUNK entries, where an entry is a single datagram or
 * a group of two or more (gso_group) with its UDP_SEGMENT cmsg, so a flush costs one system call however many
 * clients it answers. Failure accounting is io_send_batch's: sendmmsg() stops at the first entry that fails and
 * the next call starting there reports its errno, charged to that entry's datagrams; EAGAIN / ENOBUFS fail the
 * rest of the batch. A group the kernel refuses with EIO (the egress device cannot: GSO off for the socket from
 * here on), EINVAL or EMSGSIZE is resent datagram by datagram.
 */
static int send_batch_gso(int fd, const uint8_t *data, size_t dlen, uint8_t *meta, int count, int32_t *gso) {
  gso_entry_t entries[SEND_CHUNK];
  struct mmsghdr msgs[SEND_CHUNK];
  struct iovec iovs[SEND_CHUNK];
  struct sockaddr_storage tos[SEND_CHUNK];
  size_t at = 0;
  int failed = 0, i = 0;
  while (i < count) {
    int m = gso_entries(data, dlen, meta, count, *gso & 1, &i, &at, entries, msgs, iovs, tos);
    if (m < 0) return -1;
    int done = 0;
    while (done < m) {
      int sent = sendmmsg(fd, msgs + done, (unsigned)(m - done), MSG_DONTWAIT);
      if (sent < 0 && errno == EINTR) continue;
      if (sent > 0) {
        for (int k = done; k < done + sent; k++) mark_records(meta, entries[k].first, entries[k].n, 0);
        done += sent;
        continue;
      }
      int e = sent < 0 ? errno : EIO;
      const gso_entry_t *x = &entries[done];
      if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
        mark_records(meta, x->first, count - x->first, e);
        return failed + (count - x->first);
      }
      if (x->n > 1 && (e == EIO || e == EINVAL || e == EMSGSIZE)) {
        if (e == EIO) *gso &= ~1; /* the egress device cannot: plain from here on */
        int f = io_send_batch(fd, data + x->at, dlen - x->at, meta + (size_t)x->first * SEND_META, x->n, SEND_META, 12, udp_dest);
        if (f < 0) return -1;
        failed += f;
      } else {
        mark_records(meta, x->first, x->n, e);
        failed += x->n;
      }
      done++;
    }
  }
  return failed;
}

/*
 * udpSendBatch(fd, data, meta, count[, gso: the bytes of one int32]) -> number of datagrams that failed
 * `data` holds the datagrams back to back, `meta` one SEND_META record each; every record's errno field is set
 * (0 = handed to the kernel). Without `gso` (or gso[0] = 0) the loop, and which failures are charged to one
 * datagram or to the rest of the batch, is io_send_batch's (common.c); with gso[0] = 1, send_batch_gso's.
 */
static napi_value udp_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, count;
  const uint8_t *data, *meta, *state = NULL;
  size_t dlen, mlen, slen = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_bytes(env, argv[1], &data, &dlen) ||
      !io_get_bytes(env, argv[2], &meta, &mlen) || !io_get_int(env, argv[3], &count) || count < 0 ||
      (size_t)count * SEND_META > mlen || (argc >= 5 && (!io_get_bytes(env, argv[4], &state, &slen) || slen < 4)))
    return io_throw_type(env, "udpSendBatch(fd, data: Uint8Array, meta: Uint8Array of 16-byte records, count, gso?: Uint8Array (one int32))");
  int32_t gso = 0;
  if (state) memcpy(&gso, state, 4);
  int failed = gso & 1 ? send_batch_gso(fd, data, dlen, (uint8_t *)meta, count, &gso)
                       : io_send_batch(fd, data, dlen, (uint8_t *)meta, count, SEND_META, 12, udp_dest);
  if (state) memcpy((uint8_t *)state, &gso, 4);
  if (failed < 0) return io_throw_type(env, "udpSendBatch: a record's length runs past the data or its port is above 65535");
  return io_int(env, failed);
}

/* udpSetOption(fd, option, value): OPT_* above; value is a uint32 (an IPv4 address for OPT_MULTICAST_IF). */
static napi_value udp_set_option(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd, option;
  uint32_t value;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !io_get_int(env, argv[0], &fd) || !io_get_int(env, argv[1], &option) ||
      napi_get_value_uint32(env, argv[2], &value) != napi_ok)
    return io_throw_type(env, "udpSetOption(fd, option, value: uint32)");
  int rc;
  const char *what;
  switch (option) {
    case OPT_TTL:
      what = "setsockopt(IP_TTL)";
      rc = set_int(fd, IPPROTO_IP, IP_TTL, (int)value);
      break;
    case OPT_MULTICAST_TTL:
      what = "setsockopt(IP_MULTICAST_TTL)";
      rc = set_int(fd, IPPROTO_IP, IP_MULTICAST_TTL, (int)value);
      break;
    case OPT_MULTICAST_LOOP:
      what = "setsockopt(IP_MULTICAST_LOOP)";
      rc = set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, value ? 1 : 0);
      break;
    case OPT_MULTICAST_IF: {
      struct in_addr a = {.s_addr = htonl(value)};
      what = "setsockopt(IP_MULTICAST_IF)";
      rc = setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof a);
      break;
    }
    default:
      return io_throw_type(env, "udpSetOption: unknown option");
  }
  if (rc < 0) return io_throw(env, "IO_UDP_CONFIG", what, errno, NULL);
  return NULL;
}

/* udpMembership(fd, group, interfaceAddress, join): IPv4 addresses as uint32, interface 0 = the kernel's choice. */
static napi_value udp_membership(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd;
  uint32_t group, ifaddr;
  int join;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || napi_get_value_uint32(env, argv[1], &group) != napi_ok ||
      napi_get_value_uint32(env, argv[2], &ifaddr) != napi_ok || !io_get_bool(env, argv[3], &join))
    return io_throw_type(env, "udpMembership(fd, group: uint32, interfaceAddress: uint32, join)");
  struct ip_mreq mreq = {.imr_multiaddr.s_addr = htonl(group), .imr_interface.s_addr = htonl(ifaddr)};
  if (setsockopt(fd, IPPROTO_IP, join ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &mreq, sizeof mreq) < 0)
    return io_throw(env, "IO_UDP_CONFIG", join ? "setsockopt(IP_ADD_MEMBERSHIP)" : "setsockopt(IP_DROP_MEMBERSHIP)", errno, NULL);
  return NULL;
}

napi_value udp_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"udpOpen", NULL, udp_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSendBatch", NULL, udp_send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpSetOption", NULL, udp_set_option, NULL, NULL, NULL, napi_enumerable, NULL},
      {"udpMembership", NULL, udp_membership, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
