/*
 * A send-only raw IPv6 socket for the teredo_io addon: how a Teredo server hands a client's packet for a
 * native IPv6 destination to the native network without a TUN device (what miredo-server does with its
 * "raw6" socket, libteredo/server.c).
 *  - socket(AF_INET6, SOCK_RAW, IPPROTO_RAW): on Linux protocol 255 turns header inclusion on for an IPv6
 *    raw socket (net/ipv6/af_inet6.c sets hdrincl for IPPROTO_RAW, as IPV6_HDRINCL would since Linux 4.5):
 *    the caller writes the whole packet, IPv6 header included, and the kernel sends it as written (source
 *    address, hop limit, flow label untouched) after an ordinary route lookup for the destination passed to
 *    sendto(). It needs CAP_NET_RAW only; no device, no forwarding sysctl.
 *  - send-only: the socket would otherwise be handed every received packet whose next header is 255. A
 *    one-instruction classic BPF filter (SO_ATTACH_FILTER, "return 0") drops them before they are queued, so
 *    nothing accumulates in a socket nobody reads; shutdown(SHUT_RD) says the same to a reader of the code.
 *  - raw6SendBatch: the packets JavaScript queued during one turn leave in sendmmsg() calls of up to
 *    SEND_CHUNK messages; each one's destination is read from its own IPv6 header (bytes 24..39).
 * No fragmentation: a packet larger than the route's MTU fails with EMSGSIZE (Teredo packets are <= 1280).
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_CHUNK 64  /* messages per sendmmsg(); the JS side may pass more, they go in several calls */
#define SEND_META 8    /* per message: u32 length in, i32 errno out (host order) */
#define IPV6_HEADER 40 /* RFC 8200 §3 */
#define IPV6_DST_AT 24

/* raw6Open(netns) -> fd */
static napi_value raw6_open(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char netns[4096];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !io_get_string(env, argv[0], netns, sizeof netns)) return io_throw_type(env, "raw6Open(netns | null)");
  int saved;
  if (io_netns_enter(netns, &saved) < 0) return io_throw(env, "IO_NETNS", "setns", errno, netns);
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
  io_netns_leave(saved);
  if (fd < 0) return io_throw(env, "IO_RAW6_OPEN", "socket(AF_INET6, SOCK_RAW, IPPROTO_RAW)", errno, NULL);
  struct sock_filter drop_all[] = {BPF_STMT(BPF_RET | BPF_K, 0)};
  struct sock_fprog prog = {.len = 1, .filter = drop_all};
  const char *failed = NULL;
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) failed = "setsockopt(SO_ATTACH_FILTER)";
  else if (shutdown(fd, SHUT_RD) < 0 && errno != ENOTCONN) failed = "shutdown(SHUT_RD)";
  if (failed) {
    int e = errno;
    close(fd);
    return io_throw(env, "IO_RAW6_OPEN", failed, e, NULL);
  }
  return io_int(env, fd);
}

/* Marks messages [from, to) of the meta records with errno e; returns how many. */
static int mark(uint8_t *meta, int from, int to, int32_t e) {
  for (int i = from; i < to; i++) memcpy(meta + (size_t)i * SEND_META + 4, &e, 4);
  return to - from;
}

/*
 * raw6SendBatch(fd, data, meta, count) -> number of packets that failed
 * `data` holds whole IPv6 packets back to back, `meta` one SEND_META record each; every record's errno field
 * is set (0 = handed to the kernel). As in udpSendBatch, a failing packet (ENETUNREACH: no route; EMSGSIZE;
 * EINVAL for one shorter than an IPv6 header; EPERM from a firewall) is charged to it alone and the rest still
 * go out; EAGAIN / ENOBUFS (queue full) fails the rest of the batch at once rather than spinning.
 */
static napi_value raw6_send_batch(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, count;
  const uint8_t *data, *meta_in;
  size_t dlen, mlen;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_bytes(env, argv[1], &data, &dlen) ||
      !io_get_bytes(env, argv[2], &meta_in, &mlen) || !io_get_int(env, argv[3], &count) || count < 0 ||
      (size_t)count * SEND_META > mlen)
    return io_throw_type(env, "raw6SendBatch(fd, data: Uint8Array, meta: Uint8Array of 8-byte records, count)");
  uint8_t *meta = (uint8_t *)meta_in;
  struct mmsghdr msgs[SEND_CHUNK];
  struct iovec iovs[SEND_CHUNK];
  struct sockaddr_in6 tos[SEND_CHUNK];
  size_t at = 0;
  int failed = 0, i = 0;
  while (i < count) {
    /* Build up to SEND_CHUNK messages; a packet too short to hold a header is marked EINVAL and skipped. */
    int n = 0;
    int index[SEND_CHUNK];
    while (i < count && n < SEND_CHUNK) {
      uint32_t len;
      memcpy(&len, meta + (size_t)i * SEND_META, 4);
      if (len > dlen - at) return io_throw_type(env, "raw6SendBatch: a record's length runs past the data");
      if (len < IPV6_HEADER) {
        failed += mark(meta, i, i + 1, EINVAL);
      } else {
        tos[n] = (struct sockaddr_in6){.sin6_family = AF_INET6};
        memcpy(&tos[n].sin6_addr, data + at + IPV6_DST_AT, 16);
        iovs[n] = (struct iovec){.iov_base = (void *)(data + at), .iov_len = len};
        msgs[n] = (struct mmsghdr){.msg_hdr = {.msg_name = &tos[n], .msg_namelen = sizeof tos[n], .msg_iov = &iovs[n], .msg_iovlen = 1}};
        index[n++] = i;
      }
      at += len;
      i++;
    }
    int done = 0;
    while (done < n) {
      int sent = sendmmsg(fd, msgs + done, (unsigned)(n - done), MSG_DONTWAIT);
      if (sent < 0 && errno == EINTR) continue;
      if (sent > 0) {
        for (int k = done; k < done + sent; k++) mark(meta, index[k], index[k] + 1, 0);
        done += sent;
        continue;
      }
      int e = sent < 0 ? errno : EIO;
      if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
        for (int k = done; k < n; k++) failed += mark(meta, index[k], index[k] + 1, e);
        failed += mark(meta, i, count, e);
        return io_int(env, failed);
      }
      failed += mark(meta, index[done], index[done] + 1, e);
      done++;
    }
  }
  return io_int(env, failed);
}

napi_value raw6_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"raw6Open", NULL, raw6_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"raw6SendBatch", NULL, raw6_send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
