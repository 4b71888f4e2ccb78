/* Shared helpers of the teredo_io addon (see common.h). */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void io_throw_napi(napi_env env, const char *what) {
  const napi_extended_error_info *info = NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "%s failed: %s", what, info && info->error_message ? info->error_message : "N-API error");
  napi_throw_error(env, "IO_NATIVE", msg);
}

napi_value io_throw(napi_env env, const char *code, const char *syscall, int err, const char *detail) {
  char msg[512];
  if (detail && *detail)
    snprintf(msg, sizeof msg, "%s %s: %s", syscall, detail, strerror(err));
  else
    snprintf(msg, sizeof msg, "%s: %s", syscall, strerror(err));
  napi_value jcode, jmsg, error, jerrno, jsys;
  if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &jcode) != napi_ok ||
      napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &jmsg) != napi_ok ||
      napi_create_error(env, jcode, jmsg, &error) != napi_ok) {
    napi_throw_error(env, code, msg);
    return NULL;
  }
  napi_create_int32(env, err, &jerrno);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &jsys);
  napi_set_named_property(env, error, "errno", jerrno);
  napi_set_named_property(env, error, "syscall", jsys);
  napi_throw(env, error);
  return NULL;
}

napi_value io_throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

int io_get_int(napi_env env, napi_value v, int32_t *out) {
  return napi_get_value_int32(env, v, out) == napi_ok;
}

int io_get_bool(napi_env env, napi_value v, int *out) {
  bool b = false;
  if (napi_get_value_bool(env, v, &b) != napi_ok) return 0;
  *out = b ? 1 : 0;
  return 1;
}

int io_get_string(napi_env env, napi_value v, char *buf, size_t cap) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) {
    buf[0] = '\0';
    return 1;
  }
  if (t != napi_string) return 0;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len + 1 > cap) return 0;
  return napi_get_value_string_utf8(env, v, buf, cap, &len) == napi_ok;
}

int io_get_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) == napi_ok && is) {
    napi_typedarray_type type;
    size_t count = 0, offset = 0;
    void *base = NULL;
    napi_value ab;
    if (napi_get_typedarray_info(env, v, &type, &count, &base, &ab, &offset) != napi_ok) return 0;
    if (type != napi_uint8_array && type != napi_int8_array && type != napi_uint8_clamped_array) return 0;
    *data = base;
    *len = count;
    return 1;
  }
  if (napi_is_dataview(env, v, &is) == napi_ok && is) {
    size_t count = 0, offset = 0;
    void *base = NULL;
    napi_value ab;
    if (napi_get_dataview_info(env, v, &count, &base, &ab, &offset) != napi_ok) return 0;
    *data = base;
    *len = count;
    return 1;
  }
  return 0;
}

napi_value io_int(napi_env env, int64_t v) {
  napi_value out = NULL;
  napi_create_int64(env, v, &out);
  return out;
}

int io_ifindex(int fd, const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0) return -1;
  return ifr.ifr_ifindex;
}

#define SEND_CHUNK 64 /* messages per sendmmsg(); a longer batch goes in several calls */

static void mark(uint8_t *meta, size_t stride, size_t errno_at, int i, int32_t e) {
  memcpy(meta + (size_t)i * stride + errno_at, &e, 4);
}

/*
 * Chunks of up to SEND_CHUNK messages, each with its own destination. sendmmsg() stops at the first message that
 * fails; a deterministic error (EINVAL for port 0, EMSGSIZE, ENETUNREACH, EPERM from a firewall) recurs when the
 * next call starts at that message, so it is charged to that message alone and the rest still go out. EAGAIN /
 * ENOBUFS (the send queue is full) fails the rest of the batch at once: the datagram service may drop, and
 * retrying each packet would only spin.
 */
int io_send_batch(int fd, const uint8_t *data, size_t dlen, uint8_t *meta, int count, size_t stride, size_t errno_at, io_dest_fn dest) {
  struct mmsghdr msgs[SEND_CHUNK];
  struct iovec iovs[SEND_CHUNK];
  struct sockaddr_storage tos[SEND_CHUNK];
  int index[SEND_CHUNK];
  size_t at = 0;
  int failed = 0, i = 0;
  while (i < count) {
    int n = 0;
    while (i < count && n < SEND_CHUNK) {
      uint32_t len;
      memcpy(&len, meta + (size_t)i * stride, 4);
      if (len > dlen - at) return -1;
      socklen_t tolen = 0;
      int e = dest(meta + (size_t)i * stride, data + at, len, &tos[n], &tolen);
      if (e < 0) return -1;
      if (e > 0) {
        mark(meta, stride, errno_at, i, e);
        failed++;
      } else {
        iovs[n] = (struct iovec){.iov_base = (void *)(data + at), .iov_len = len};
        msgs[n] = (struct mmsghdr){.msg_hdr = {.msg_name = &tos[n], .msg_namelen = tolen, .msg_iov = &iovs[n], .msg_iovlen = 1}};
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
        for (int k = done; k < done + sent; k++) mark(meta, stride, errno_at, index[k], 0);
        done += sent;
        continue;
      }
      int e = sent < 0 ? errno : EIO;
      if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS) {
        for (int k = done; k < n; k++) mark(meta, stride, errno_at, index[k], e);
        for (int k = i; k < count; k++) mark(meta, stride, errno_at, k, e);
        return failed + (n - done) + (count - i);
      }
      mark(meta, stride, errno_at, index[done], e);
      failed++;
      done++;
    }
  }
  return failed;
}

int io_netns_enter(const char *netns, int *saved) {
  *saved = -1;
  if (!netns || !*netns) return 0;
  char path[4096];
  if (strchr(netns, '/'))
    snprintf(path, sizeof path, "%s", netns);
  else
    snprintf(path, sizeof path, "/run/netns/%s", netns);
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) return -1;
  int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) {
    int e = errno;
    close(target);
    errno = e;
    return -1;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int e = errno;
    close(target);
    close(self);
    errno = e;
    return -1;
  }
  close(target);
  *saved = self;
  return 0;
}

void io_netns_leave(int saved) {
  if (saved < 0) return;
  int e = errno; /* callers report the errno of the operation done inside the namespace */
  if (setns(saved, CLONE_NEWNET) < 0) {
    perror("teredo_io: cannot return to the original network namespace");
    abort();
  }
  close(saved);
  errno = e;
}

napi_value io_send_batch_call(napi_env env, napi_callback_info info, size_t stride, size_t errno_at, io_dest_fn dest, const char *usage, const char *bad_record) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, count;
  const uint8_t *data, *meta;
  size_t dlen, mlen;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_bytes(env, argv[1], &data, &dlen) ||
      !io_get_bytes(env, argv[2], &meta, &mlen) || !io_get_int(env, argv[3], &count) || count < 0 ||
      (size_t)count * stride > mlen)
    return io_throw_type(env, usage);
  int failed = io_send_batch(fd, data, dlen, (uint8_t *)meta, count, stride, errno_at, dest);
  if (failed < 0) return io_throw_type(env, bad_record);
  return io_int(env, failed);
}
