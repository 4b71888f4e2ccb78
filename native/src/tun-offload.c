/*
 * The read and write sides of a TUN device opened with offloads (tun.c, IFF_VNET_HDR), and the addon's window
 * onto vnet.c for the unit tests. Reading: vnet_read, called by the poller (poller.c KIND_VNET).
 *
 *   tunWriteBatch(fd, data, meta, count, state: Uint8Array (one int32)) -> number of packets that failed
 *
 * `data` holds `count` IPv6 packets back to back, `meta` one 8-byte record each (u32 length, i32 errno written
 * back: 0 = written), host order: the SendQueue layout (src/io/send-queue.ts). `state` holds the kinds to
 * merge (vnet.h VNET_MERGE_TCP | VNET_MERGE_UDP, what the device's offloads allow: tunOpen's `merge`):
 * consecutive TCP segments (UDP datagrams) of one flow leave as ONE writev() of a superframe (vnet_coalesce:
 * GRO towards the kernel); anything else is one writev() behind a zero virtio header. If the kernel refuses a
 * merged write with EINVAL we set state to 0 (no more merging on this device) and write that group's packets
 * one by one.
 */
#define _GNU_SOURCE
#include "common.h"
#include "vnet.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define WRITE_META 8

static void mark(uint8_t *meta, int i, int32_t e) {
  memcpy(meta + (size_t)i * WRITE_META + 4, &e, 4);
}

/* Writes one group from data (the packets of records first..first+n); returns its errno (0 = written). */
static int write_group(int fd, struct iovec *iov, int iovcnt) {
  ssize_t rc;
  do rc = writev(fd, iov, iovcnt);
  while (rc < 0 && errno == EINTR);
  return rc < 0 ? errno : 0;
}

static int write_batch(int fd, const uint8_t *data, size_t dlen, uint8_t *meta, int count, int32_t *state) {
  uint8_t hdr[VNET_HDR_LEN + VNET_MAX_HDR];
  struct iovec iov[VNET_MAX_MERGE + 2];
  size_t at = 0;
  int failed = 0;
  for (int i = 0; i < count;) {
    int iovcnt = 0, n;
    if (*state) {
      n = vnet_coalesce(data + at, dlen - at, meta + (size_t)i * WRITE_META, WRITE_META, count - i, *state, hdr, iov, &iovcnt);
    } else {
      uint32_t len;
      memcpy(&len, meta + (size_t)i * WRITE_META, 4);
      n = len <= dlen - at ? 1 : -1;
      memset(hdr, 0, VNET_HDR_LEN);
      iov[0] = (struct iovec){.iov_base = hdr, .iov_len = VNET_HDR_LEN};
      iov[1] = (struct iovec){.iov_base = (void *)(data + at), .iov_len = len};
      iovcnt = 2;
    }
    if (n < 0) return -1;
    int e = write_group(fd, iov, iovcnt);
    if (e == EINVAL && n > 1) {
      *state = 0; /* this kernel takes no merged writes: plain from here on, this group included */
      continue;
    }
    for (int k = i; k < i + n; k++) {
      uint32_t len;
      memcpy(&len, meta + (size_t)k * WRITE_META, 4);
      at += len;
      mark(meta, k, e);
    }
    if (e) failed += n;
    i += n;
  }
  return failed;
}

static napi_value tun_write_batch(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, count;
  const uint8_t *data, *meta, *state;
  size_t dlen, mlen, slen;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !io_get_int(env, argv[0], &fd) || !io_get_bytes(env, argv[1], &data, &dlen) ||
      !io_get_bytes(env, argv[2], &meta, &mlen) || !io_get_int(env, argv[3], &count) || count < 0 ||
      (size_t)count * WRITE_META > mlen || !io_get_bytes(env, argv[4], &state, &slen) || slen < 4)
    return io_throw_type(env, "tunWriteBatch(fd, data: Uint8Array, meta: Uint8Array of 8-byte records, count, state: Uint8Array (one int32))");
  int32_t s;
  memcpy(&s, state, 4);
  int failed = write_batch(fd, data, dlen, (uint8_t *)meta, count, &s);
  memcpy((uint8_t *)state, &s, 4);
  if (failed < 0) return io_throw_type(env, "tunWriteBatch: a record's length runs past the data");
  return io_int(env, failed);
}

/*
 * vnetSegment(frame: virtio header + packet, out, lens: Uint8Array (int32s)) -> packets written to out (lengths in
 * lens), or -1. The read path's cut (poller.c), for the unit tests.
 */
static napi_value vnet_segment_call(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  const uint8_t *frame, *out, *lens;
  size_t flen, olen, llen;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !io_get_bytes(env, argv[0], &frame, &flen) || flen < VNET_HDR_LEN || !io_get_bytes(env, argv[1], &out, &olen) ||
      !io_get_bytes(env, argv[2], &lens, &llen))
    return io_throw_type(env, "vnetSegment(frame: Uint8Array, out: Uint8Array, lens: Uint8Array (int32s))");
  vnet_hdr_t h;
  vnet_hdr_read(frame, &h);
  return io_int(env, vnet_segment(frame + VNET_HDR_LEN, flen - VNET_HDR_LEN, &h, (uint8_t *)out, olen, (uint32_t *)lens, (int)(llen / 4)));
}

/*
 * vnetCoalesce(data, lens: Uint8Array (int32s), count, kinds, out, outLens: Uint8Array (int32s)) -> writes: what tunWriteBatch would
 * hand the kernel (virtio header + packet, each write's bytes concatenated into out), for the unit tests.
 */
static napi_value vnet_coalesce_call(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  const uint8_t *data, *lens, *out, *olens;
  size_t dlen, llen, olen, ollen;
  int32_t count, kinds;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !io_get_bytes(env, argv[0], &data, &dlen) || !io_get_bytes(env, argv[1], &lens, &llen) ||
      !io_get_int(env, argv[2], &count) || count < 0 || (size_t)count * 4 > llen || !io_get_int(env, argv[3], &kinds) ||
      !io_get_bytes(env, argv[4], &out, &olen) || !io_get_bytes(env, argv[5], &olens, &ollen))
    return io_throw_type(env, "vnetCoalesce(data, lens: Uint8Array (int32s), count, kinds, out: Uint8Array, outLens: Uint8Array (int32s))");
  uint8_t hdr[VNET_HDR_LEN + VNET_MAX_HDR];
  struct iovec iov[VNET_MAX_MERGE + 2];
  size_t at = 0, put = 0;
  int writes = 0;
  for (int i = 0; i < count;) {
    int iovcnt;
    int n = vnet_coalesce(data + at, dlen - at, lens + (size_t)i * 4, 4, count - i, kinds, hdr, iov, &iovcnt);
    if (n < 0 || (size_t)writes * 4 + 4 > ollen) return io_throw_type(env, "vnetCoalesce: bad lengths or no room");
    uint32_t wlen = 0;
    for (int k = 0; k < iovcnt; k++) {
      if (put + iov[k].iov_len > olen) return io_throw_type(env, "vnetCoalesce: out too small");
      memcpy((uint8_t *)out + put, iov[k].iov_base, iov[k].iov_len);
      put += iov[k].iov_len;
      wlen += (uint32_t)iov[k].iov_len;
    }
    memcpy((uint8_t *)olens + (size_t)writes * 4, &wlen, 4);
    writes++;
    for (int k = i; k < i + n; k++) {
      uint32_t len;
      memcpy(&len, lens + (size_t)k * 4, 4);
      at += len;
    }
    i += n;
  }
  return io_int(env, writes);
}

/*
 * One read of a virtio-net TUN: the frame lands at `buf`; a superframe or a partial checksum is cut/completed
 * through super. Returns the records written at `meta` (lengths), their bytes in *bytes, or -1 + errno.
 * A frame vnet_segment refuses (its header lies about it) is passed on whole: the engine drops it, counted.
 */
int vnet_read(int fd, uint8_t *super, uint8_t *buf, size_t room, uint8_t *meta, size_t *bytes) {
  uint8_t raw[VNET_HDR_LEN];
  struct iovec iov[2] = {{.iov_base = raw, .iov_len = VNET_HDR_LEN}, {.iov_base = buf, .iov_len = 65536}};
  ssize_t n = readv(fd, iov, 2);
  if (n < 0) return -1;
  uint32_t len = n > VNET_HDR_LEN ? (uint32_t)(n - VNET_HDR_LEN) : 0;
  vnet_hdr_t h;
  vnet_hdr_read(raw, &h);
  int count = 0;
  if (h.gso_type != 0 || (h.flags & 1)) { /* 1 = NEEDS_CSUM; DATA_VALID (2) needs nothing */
    memcpy(super, buf, len);
    count = vnet_segment(super, len, &h, buf, room, (uint32_t *)meta, VNET_MAX_SEGS);
    if (count < 0) memcpy(buf, super, len);
  }
  if (count <= 0) {
    count = 1;
    memcpy(meta, &len, 4);
  }
  *bytes = 0;
  for (int i = 0; i < count; i++) {
    uint32_t l;
    memcpy(&l, meta + 4 * (size_t)i, 4);
    *bytes += l;
  }
  return count;
}

napi_value tun_offload_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tunWriteBatch", NULL, tun_write_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"vnetSegment", NULL, vnet_segment_call, NULL, NULL, NULL, napi_enumerable, NULL},
      {"vnetCoalesce", NULL, vnet_coalesce_call, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
