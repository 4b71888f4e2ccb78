/*
 * Batched receive loop of the teredo_io addon: a uv_poll watcher on a non-blocking fd (a TUN device, a raw
 * ICMPv6 socket or an IPv4 UDP socket). pollerStart allocates the poller's receive memory once, as two
 * ArrayBuffers that JavaScript gets at start and that every wake-up refills (lent, src/io/ports.ts):
 *
 *   pollerStart(fd, kind, batchMax, callback) -> { handle, data: Uint8Array, meta: Int32Array }
 *
 * When the fd is readable we drain up to `batchMax` packets with read() / recvmsg() / one recvmmsg() into
 * `data` and make ONE call into JavaScript, callback(errno, count): nothing is copied or allocated per batch.
 * (A TUN / ICMPv6 poller woken after a quiet spell hands the first packet over alone, then the rest: on_readable.)
 * `data` then holds the packets back to back from offset 0; `meta` one fixed-size record per packet, int32
 * words in host byte order. TUN records are 1 word (length). ICMPv6 records are 8 words: length, ifindex
 * (IPV6_PKTINFO), hop limit (IPV6_HOPLIMIT, -1 if absent), scope id of the source, then the 16-byte source
 * address. UDP records are 3 words: length, source IPv4 address, source port.
 * Offload kinds (issue 18): KIND_VNET reads a TUN device opened with IFF_VNET_HDR (tun.c): each read is one
 * virtio header + superframe, cut into wire-sized packets here (vnet_segment) so JavaScript sees TUN records
 * as from KIND_READ, up to VNET_MAX_SEGS more than batchMax. KIND_UDP4_GRO is KIND_UDP4 on a socket with
 * UDP_GRO: a coalesced datagram (the UDP_GRO cmsg gives its segment size) becomes one record per segment, all
 * with the same source, up to GRO_SEGS records per datagram slot.
 * The next wake-up overwrites both, so JavaScript must not keep a view past the callback; whoever keeps bytes
 * copies them. The poller keeps a reference to both buffers until it is closed; if JavaScript detaches one
 * (transfers it to a worker), the poller stops and reports EFAULT rather than write into memory it lost.
 * One JS call per batch instead of one per packet is what makes this faster than fs.read (docs/performance.md).
 * A non-zero errno reports a receive error. After a fatal one (not EAGAIN/EINTR) a TUN or ICMPv6 poller stops;
 * a UDP poller keeps going, because a UDP socket's pending error (sk_err) is cleared by the call that reports it.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "vnet.h"

#define KIND_READ 0
#define KIND_ICMP6 1
#define KIND_UDP4 2
#define KIND_VNET 3
#define KIND_UDP4_GRO 4
#define GRO_SEGS 128 /* UDP_MAX_SEGMENTS: a GSO datagram that crossed a veth unsplit carries at most this many */
#define GRO_CTRL CMSG_SPACE(sizeof(int))
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
  int last_count; /* packets the previous wake-up delivered: <= 1 is the idle regime (on_readable) */
  size_t cap;
  /* The lent receive memory: the backing stores of two ArrayBuffers the poller holds a reference to. */
  napi_ref data_ref;
  napi_ref meta_ref;
  uint8_t *scratch;
  uint8_t *meta;
  /* KIND_UDP4 only: one recvmmsg() slot of MAX_PACKET bytes per datagram (see drain_udp4). */
  struct mmsghdr *msgs;
  struct iovec *iovs;
  struct sockaddr_in *froms;
  uint8_t *control; /* KIND_UDP4_GRO: GRO_CTRL bytes per slot */
  uint8_t *super;   /* KIND_VNET: one superframe being cut */
} poller_t;

static void poller_free(poller_t *p) {
  if (p->data_ref) napi_delete_reference(p->env, p->data_ref);
  if (p->meta_ref) napi_delete_reference(p->env, p->meta_ref);
  free(p->msgs);
  free(p->iovs);
  free(p->froms);
  free(p->control);
  free(p->super);
  free(p);
}

static void on_closed(uv_handle_t *h) {
  poller_t *p = h->data;
  napi_delete_reference(p->env, p->callback);
  napi_async_destroy(p->env, p->async);
  poller_free(p);
}

static size_t meta_stride(int kind) { /* bytes */
  return kind == KIND_READ || kind == KIND_VNET ? 4 : kind == KIND_ICMP6 ? ICMP6_META : UDP4_META;
}

static int is_udp(int kind) { return kind == KIND_UDP4 || kind == KIND_UDP4_GRO; }

/* Meta records a batch may fill: a superframe or a coalesced datagram gives several. */
static size_t meta_records(int kind, int batch) {
  return kind == KIND_VNET ? (size_t)batch - 1 + VNET_MAX_SEGS : kind == KIND_UDP4_GRO ? (size_t)batch * GRO_SEGS : (size_t)batch;
}

/* The segment size of a coalesced datagram (the UDP_GRO cmsg), or 0. */
static uint32_t gro_size(struct msghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int g;
      memcpy(&g, CMSG_DATA(c), sizeof g);
      return g > 0 ? (uint32_t)g : 0;
    }
  }
  return 0;
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
  for (int i = 0; i < p->batch_max; i++) {
    p->msgs[i].msg_hdr.msg_namelen = sizeof p->froms[i];
    if (p->control) p->msgs[i].msg_hdr.msg_controllen = GRO_CTRL;
  }
  int n = recvmmsg(p->fd, p->msgs, (unsigned)p->batch_max, MSG_DONTWAIT, NULL);
  if (n < 0) return -1;
  size_t at = 0;
  int records = 0;
  for (int i = 0; i < n; i++) {
    uint32_t len = p->msgs[i].msg_len;
    uint32_t addr = ntohl(p->froms[i].sin_addr.s_addr);
    uint32_t port = ntohs(p->froms[i].sin_port);
    uint32_t g = p->control ? gro_size(&p->msgs[i].msg_hdr) : 0;
    if (at != (size_t)i * MAX_PACKET) memmove(p->scratch + at, p->scratch + (size_t)i * MAX_PACKET, len);
    /* One record per segment; a datagram with more than GRO_SEGS segments keeps its tail in the last record. */
    for (int k = 0; k < GRO_SEGS; k++) {
      uint32_t seg = g == 0 || len <= g || k == GRO_SEGS - 1 ? len : g;
      uint8_t *m = p->meta + (size_t)records++ * UDP4_META;
      memcpy(m, &seg, 4);
      memcpy(m + 4, &addr, 4);
      memcpy(m + 8, &port, 4);
      at += seg;
      len -= seg;
      if (len == 0) break;
    }
  }
  *used = at;
  return records;
}

/* callback(errno, count); the caller has opened a handle scope. */
static void deliver(poller_t *p, int err, int count) {
  napi_env env = p->env;
  napi_value argv[2], cb, recv, result;
  napi_create_int32(env, err, &argv[0]);
  napi_create_int32(env, count, &argv[1]);
  napi_get_reference_value(env, p->callback, &cb);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, p->async, recv, cb, 2, argv, &result) == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
}

/* False when JavaScript detached (transferred) one of the lent ArrayBuffers: their memory is no longer ours. */
static int buffers_attached(poller_t *p) {
  napi_ref refs[2] = {p->data_ref, p->meta_ref};
  for (int i = 0; i < 2; i++) {
    napi_value ab;
    bool detached = true;
    if (napi_get_reference_value(p->env, refs[i], &ab) != napi_ok || napi_is_detached_arraybuffer(p->env, ab, &detached) != napi_ok || detached) return 0;
  }
  return 1;
}

/* Drains at most `max` packets into the lent buffers; returns the count (0 when none), *err = a fatal errno or 0. */
static int drain(poller_t *p, int max, int *err) {
  size_t stride = meta_stride(p->kind);
  size_t used = 0;
  int count = 0;
  *err = 0;
  if (is_udp(p->kind)) {
    count = drain_udp4(p, &used);
    if (count < 0) {
      count = 0;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) *err = errno;
    }
    return count;
  }
  while (p->kind == KIND_VNET && count < max && p->cap - used >= VNET_SEG_OUT_MAX) {
    size_t bytes;
    int n = vnet_read(p->fd, p->super, p->scratch + used, p->cap - used, p->meta + stride * (size_t)count, &bytes);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) *err = errno;
      return count;
    }
    used += bytes;
    count += n;
  }
  while (p->kind != KIND_VNET && count < max && p->cap - used >= MAX_PACKET) {
    ssize_t n = read_one(p, p->scratch + used, p->cap - used, p->meta + stride * (size_t)count);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) *err = errno;
      break;
    }
    used += (size_t)n;
    count++;
  }
  return count;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  poller_t *p = h->data;
  (void)events;
  napi_handle_scope scope;
  if (napi_open_handle_scope(p->env, &scope) != napi_ok) return;
  int count = 0, err = 0;
  if (status < 0) {
    err = -status;
  } else if (!buffers_attached(p)) {
    err = EFAULT;
  } else {
    /* A TUN / ICMPv6 batch ends with the read that finds the queue empty. When the previous wake-up found one
       packet (a ping, a lone RS), the first packet goes to JavaScript, and out, before that read: batching adds
       no system call in front of a lone packet. The rest of a batch, if any, follows. recvmmsg (UDP) needs no
       such read. */
    int first = !is_udp(p->kind) && p->last_count <= 1 ? 1 : p->batch_max;
    count = drain(p, first, &err);
    /* A poller may be closed from inside the callback; it is freed only in on_closed, so `p` stays valid. */
    if (count > 0) deliver(p, 0, count);
    p->last_count = count;
    if (count == first && first < p->batch_max && !uv_is_closing((uv_handle_t *)&p->poll)) {
      if (!buffers_attached(p)) {
        err = EFAULT;
      } else {
        count = drain(p, p->batch_max, &err);
        if (count > 0) deliver(p, 0, count);
        p->last_count += count;
      }
    }
  }
  /* A UDP socket's pending error (sk_err) is cleared by the call that reports it: that poller keeps going. */
  int fatal = err && (status < 0 || err == EFAULT || !is_udp(p->kind));
  if (err && !uv_is_closing((uv_handle_t *)&p->poll)) {
    if (fatal) uv_poll_stop(&p->poll);
    deliver(p, err, 0);
  }
  napi_close_handle_scope(p->env, scope);
}

/* Points message i of the recvmmsg() vector at scratch slot i and at its own source address. */
static int udp4_slots(poller_t *p) {
  size_t n = (size_t)p->batch_max;
  p->msgs = calloc(n, sizeof *p->msgs);
  p->iovs = calloc(n, sizeof *p->iovs);
  p->froms = calloc(n, sizeof *p->froms);
  if (p->kind == KIND_UDP4_GRO && !(p->control = calloc(n, GRO_CTRL))) return 0;
  if (!p->msgs || !p->iovs || !p->froms) return 0;
  for (size_t i = 0; i < n; i++) {
    p->iovs[i].iov_base = p->scratch + i * MAX_PACKET;
    p->iovs[i].iov_len = MAX_PACKET;
    p->msgs[i].msg_hdr.msg_iov = &p->iovs[i];
    p->msgs[i].msg_hdr.msg_iovlen = 1;
    p->msgs[i].msg_hdr.msg_name = &p->froms[i];
    if (p->control) p->msgs[i].msg_hdr.msg_control = p->control + i * GRO_CTRL;
  }
  return 1;
}

/* An ArrayBuffer of `bytes` the poller keeps a reference to, and its memory; NULL on failure. */
static uint8_t *lent_buffer(napi_env env, size_t bytes, napi_ref *ref, napi_value *ab) {
  void *data = NULL;
  if (napi_create_arraybuffer(env, bytes, &data, ab) != napi_ok) return NULL;
  if (napi_create_reference(env, *ab, 1, ref) != napi_ok) return NULL;
  return data;
}

/* pollerStart(fd, kind, batchMax, callback) -> { handle, data: Uint8Array, meta: Int32Array } */
static napi_value poller_start(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out, handle, name, data_ab, meta_ab, data, meta;
  int32_t fd, kind, batch;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_int(env, argv[1], &kind) ||
      !io_get_int(env, argv[2], &batch) || batch < 1 || batch > 1024 || kind < KIND_READ || kind > KIND_UDP4_GRO)
    return io_throw_type(env, "pollerStart(fd, kind, batchMax 1..1024, callback)");
  poller_t *p = calloc(1, sizeof *p);
  if (!p) return io_throw(env, "IO_NATIVE", "calloc", ENOMEM, NULL);
  p->env = env;
  p->fd = fd;
  p->kind = kind;
  p->batch_max = batch;
  /* UDP: one MAX_PACKET slot per datagram (address space; the kernel touches only what it writes). VNET:
   * room for a few superframes cut, and always for the largest cut of one (VNET_SEG_OUT_MAX). */
  p->cap = is_udp(kind) ? (size_t)batch * MAX_PACKET
           : kind == KIND_VNET ? (size_t)batch * SLOT_HINT + 4 * MAX_PACKET + VNET_SEG_OUT_MAX
                               : (size_t)batch * SLOT_HINT + MAX_PACKET;
  size_t meta_bytes = meta_records(kind, batch) * meta_stride(kind);
  p->scratch = lent_buffer(env, p->cap, &p->data_ref, &data_ab);
  p->meta = p->scratch ? lent_buffer(env, meta_bytes, &p->meta_ref, &meta_ab) : NULL;
  int ok = p->meta != NULL;
  if (ok && is_udp(kind)) ok = udp4_slots(p);
  if (ok && kind == KIND_VNET) ok = (p->super = malloc(MAX_PACKET)) != NULL;
  uv_loop_t *loop = NULL;
  if (!ok || napi_get_uv_event_loop(env, &loop) != napi_ok) {
    poller_free(p);
    return io_throw(env, "IO_NATIVE", "malloc", ENOMEM, NULL);
  }
  if (napi_create_typedarray(env, napi_uint8_array, p->cap, data_ab, 0, &data) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, meta_bytes / 4, meta_ab, 0, &meta) != napi_ok) {
    poller_free(p);
    return io_throw(env, "IO_NATIVE", "napi_create_typedarray", ENOMEM, NULL);
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
  NAPI_CALL(env, napi_create_object(env, &out));
  napi_set_named_property(env, out, "handle", handle);
  napi_set_named_property(env, out, "data", data);
  napi_set_named_property(env, out, "meta", meta);
  return out;
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
