/*
 * Batched receive loop of the teredo_io addon: a uv_poll watcher on a non-blocking fd (a TUN device, a raw
 * ICMPv6 socket or an IPv4 UDP socket). When the fd is readable we drain up to `batchMax` packets with
 * read() / recvmsg() / one recvmmsg() into one scratch area, copy them into ONE fresh Buffer and make ONE call
 * into JavaScript:
 *
 *   callback(errno, data, meta, count)
 *
 * `data` holds the packets back to back; `meta` holds one fixed-size record per packet. TUN records are 4 bytes
 * (u32 length). ICMPv6 records are 32 bytes: u32 length, u32 ifindex (IPV6_PKTINFO), i32 hop limit
 * (IPV6_HOPLIMIT, -1 if absent), u32 scope id of the source, 16 bytes source address. UDP records are 12
 * bytes: u32 length, u32 source IPv4 address, u32 source port; all host byte order.
 * One JS call per batch instead of one per packet is what makes this faster than fs.read (see README).
 * A non-zero errno reports a receive error. After a fatal one (not EAGAIN/EINTR) a TUN or ICMPv6 poller stops;
 * a UDP poller keeps going, because a UDP socket's pending error (sk_err) is cleared by the call that reports it.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#define KIND_READ 0
#define KIND_ICMP6 1
#define KIND_UDP4 2
#define MAX_PACKET 65536 /* every read gets at least this much room, so nothing is ever truncated */
#define SLOT_HINT 2048   /* typical packet; sizes the scratch area for a full batch of MTU-sized packets */
#define ICMP6_META 32
#define UDP4_META 12

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context async;
  int fd;
  int kind;
  int batch_max;
  size_t cap;
  uint8_t *scratch;
  uint8_t *meta;
  /* KIND_UDP4 only: one recvmmsg() slot of MAX_PACKET bytes per datagram (see drain_udp4). */
  struct mmsghdr *msgs;
  struct iovec *iovs;
  struct sockaddr_in *froms;
} poller_t;

static void poller_free(poller_t *p) {
  free(p->scratch);
  free(p->meta);
  free(p->msgs);
  free(p->iovs);
  free(p->froms);
  free(p);
}

static void on_closed(uv_handle_t *h) {
  poller_t *p = h->data;
  napi_delete_reference(p->env, p->callback);
  napi_async_destroy(p->env, p->async);
  poller_free(p);
}

static size_t meta_stride(int kind) {
  return kind == KIND_READ ? 4 : kind == KIND_ICMP6 ? ICMP6_META : UDP4_META;
}

static ssize_t read_one(poller_t *p, uint8_t *buf, size_t room, uint8_t *meta) {
  if (p->kind == KIND_READ) {
    ssize_t n = read(p->fd, buf, room);
    if (n >= 0) {
      uint32_t len = (uint32_t)n;
      memcpy(meta, &len, 4);
    }
    return n;
  }
  struct sockaddr_in6 from;
  struct iovec iov = {.iov_base = buf, .iov_len = room};
  union {
    struct cmsghdr align;
    uint8_t bytes[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr msg = {
      .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
      .msg_control = control.bytes, .msg_controllen = sizeof control.bytes};
  ssize_t n = recvmsg(p->fd, &msg, 0);
  if (n < 0) return n;
  uint32_t len = (uint32_t)n, ifindex = 0, scope = from.sin6_scope_id;
  int32_t hops = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo info;
      memcpy(&info, CMSG_DATA(c), sizeof info);
      ifindex = info.ipi6_ifindex;
    } else if (c->cmsg_type == IPV6_HOPLIMIT) {
      int h;
      memcpy(&h, CMSG_DATA(c), sizeof h);
      hops = h;
    }
  }
  memcpy(meta, &len, 4);
  memcpy(meta + 4, &ifindex, 4);
  memcpy(meta + 8, &hops, 4);
  memcpy(meta + 12, &scope, 4);
  memcpy(meta + 16, &from.sin6_addr, 16);
  return n;
}

/*
 * One recvmmsg() for the whole batch. Each datagram needs a slot that can hold the largest one (a UDP payload
 * is at most 65507 bytes), so the scratch area is batchMax * MAX_PACKET of address space; the kernel only
 * touches the bytes it writes, so resident memory stays near the datagrams' real sizes. The datagrams are
 * then moved down to lie back to back, as deliver() expects. Returns the count, or -1 with errno set.
 */
static int drain_udp4(poller_t *p, size_t *used) {
  for (int i = 0; i < p->batch_max; i++) p->msgs[i].msg_hdr.msg_namelen = sizeof p->froms[i];
  int n = recvmmsg(p->fd, p->msgs, (unsigned)p->batch_max, MSG_DONTWAIT, NULL);
  if (n < 0) return -1;
  size_t at = 0;
  for (int i = 0; i < n; i++) {
    uint32_t len = p->msgs[i].msg_len;
    uint32_t addr = ntohl(p->froms[i].sin_addr.s_addr);
    uint32_t port = ntohs(p->froms[i].sin_port);
    if (at != (size_t)i * MAX_PACKET) memmove(p->scratch + at, p->scratch + (size_t)i * MAX_PACKET, len);
    uint8_t *m = p->meta + (size_t)i * UDP4_META;
    memcpy(m, &len, 4);
    memcpy(m + 4, &addr, 4);
    memcpy(m + 8, &port, 4);
    at += len;
  }
  *used = at;
  return n;
}

static void deliver(poller_t *p, int err, size_t used, int count) {
  napi_env env = p->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  size_t stride = meta_stride(p->kind);
  napi_value argv[4], cb, recv, result;
  void *unused;
  napi_create_int32(env, err, &argv[0]);
  napi_create_buffer_copy(env, used, p->scratch, &unused, &argv[1]);
  napi_create_buffer_copy(env, stride * (size_t)count, p->meta, &unused, &argv[2]);
  napi_create_int32(env, count, &argv[3]);
  napi_get_reference_value(env, p->callback, &cb);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, p->async, recv, cb, 4, argv, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  poller_t *p = h->data;
  (void)events;
  if (status < 0) {
    uv_poll_stop(&p->poll);
    deliver(p, -status, 0, 0);
    return;
  }
  size_t stride = meta_stride(p->kind);
  size_t used = 0;
  int count = 0, err = 0;
  if (p->kind == KIND_UDP4) {
    count = drain_udp4(p, &used);
    if (count < 0) {
      count = 0;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) err = errno;
    }
    if (count > 0) deliver(p, 0, used, count);
    if (err && !uv_is_closing((uv_handle_t *)&p->poll)) deliver(p, err, 0, 0);
    return;
  }
  while (count < p->batch_max && p->cap - used >= MAX_PACKET) {
    ssize_t n = read_one(p, p->scratch + used, p->cap - used, p->meta + stride * (size_t)count);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) err = errno;
      break;
    }
    used += (size_t)n;
    count++;
  }
  /* A poller may be closed from inside the callback; it is freed only in on_closed, so `p` stays valid. */
  if (count > 0) deliver(p, 0, used, count);
  if (err && !uv_is_closing((uv_handle_t *)&p->poll)) {
    uv_poll_stop(&p->poll);
    deliver(p, err, 0, 0);
  }
}

/* Points message i of the recvmmsg() vector at scratch slot i and at its own source address. */
static int udp4_slots(poller_t *p) {
  size_t n = (size_t)p->batch_max;
  p->msgs = calloc(n, sizeof *p->msgs);
  p->iovs = calloc(n, sizeof *p->iovs);
  p->froms = calloc(n, sizeof *p->froms);
  if (!p->msgs || !p->iovs || !p->froms) return 0;
  for (size_t i = 0; i < n; i++) {
    p->iovs[i].iov_base = p->scratch + i * MAX_PACKET;
    p->iovs[i].iov_len = MAX_PACKET;
    p->msgs[i].msg_hdr.msg_iov = &p->iovs[i];
    p->msgs[i].msg_hdr.msg_iovlen = 1;
    p->msgs[i].msg_hdr.msg_name = &p->froms[i];
  }
  return 1;
}

/* pollerStart(fd, kind, batchMax, callback) -> handle */
static napi_value poller_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], handle, name;
  int32_t fd, kind, batch;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_int(env, argv[1], &kind) ||
      !io_get_int(env, argv[2], &batch) || batch < 1 || batch > 1024 || kind < KIND_READ || kind > KIND_UDP4)
    return io_throw_type(env, "pollerStart(fd, kind, batchMax 1..1024, callback)");
  poller_t *p = calloc(1, sizeof *p);
  if (!p) return io_throw(env, "IO_NATIVE", "calloc", ENOMEM, NULL);
  p->env = env;
  p->fd = fd;
  p->kind = kind;
  p->batch_max = batch;
  p->cap = kind == KIND_UDP4 ? (size_t)batch * MAX_PACKET : (size_t)batch * SLOT_HINT + MAX_PACKET;
  p->scratch = malloc(p->cap);
  p->meta = malloc((size_t)batch * ICMP6_META);
  int ok = p->scratch && p->meta;
  if (ok && kind == KIND_UDP4) ok = udp4_slots(p);
  uv_loop_t *loop = NULL;
  if (!ok || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    poller_free(p);
    return io_throw(env, "IO_NATIVE", "malloc", ENOMEM, NULL);
  }
  int rc = uv_poll_init(loop, &p->poll, fd);
  if (rc < 0) {
    poller_free(p);
    return io_throw(env, "IO_POLL", "uv_poll_init", -rc, NULL);
  }
  p->poll.data = p;
  napi_create_string_utf8(env, "teredo_io.poller", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[3], 1, &p->callback);
  napi_async_init(env, NULL, name, &p->async);
  rc = uv_poll_start(&p->poll, UV_READABLE, on_readable);
  if (rc < 0) {
    uv_close((uv_handle_t *)&p->poll, on_closed);
    return io_throw(env, "IO_POLL", "uv_poll_start", -rc, NULL);
  }
  NAPI_CALL(env, napi_create_external(env, p, NULL, NULL, &handle));
  return handle;
}

static poller_t *get_poller(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* pollerClose(handle): stops watching and closes the fd. Idempotent. */
static napi_value poller_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  poller_t *p = argc == 1 ? get_poller(env, argv[0]) : NULL;
  if (!p) return io_throw_type(env, "pollerClose(handle)");
  if (uv_is_closing((uv_handle_t *)&p->poll)) return NULL;
  uv_poll_stop(&p->poll);
  close(p->fd);
  uv_close((uv_handle_t *)&p->poll, on_closed);
  return NULL;
}

napi_value poller_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"pollerStart", NULL, poller_start, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pollerClose", NULL, poller_close, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
