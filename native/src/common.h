/*
 * Shared helpers of the teredo_io N-API addon: argument parsing, errors that carry an errno and a stable
 * `code` (IO_TUN_OPEN, IO_ICMPV6_OPEN, ...), and the temporary network-namespace switch used to create a
 * file descriptor inside another namespace (the descriptor stays in that namespace after we switch back).
 */
#ifndef TEREDO_IO_COMMON_H
#define TEREDO_IO_COMMON_H

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Returns NULL from the enclosing N-API function when a call fails (an exception is then pending). */
#define NAPI_CALL(env, call)                                                      \
  do {                                                                            \
    if ((call) != napi_ok) {                                                      \
      io_throw_napi(env, #call);                                                  \
      return NULL;                                                                \
    }                                                                             \
  } while (0)

void io_throw_napi(napi_env env, const char *what);

/* Throws an Error with .code = code, .errno = err, .syscall = syscall; returns NULL for `return io_throw(...)`. */
napi_value io_throw(napi_env env, const char *code, const char *syscall, int err, const char *detail);
napi_value io_throw_type(napi_env env, const char *message);

int io_get_int(napi_env env, napi_value v, int32_t *out);
int io_get_bool(napi_env env, napi_value v, int *out);
/* Copies a JS string into buf (NUL-terminated); fails if it does not fit. Empty string when v is null/undefined. */
int io_get_string(napi_env env, napi_value v, char *buf, size_t cap);
/* Borrows the bytes of a TypedArray / Buffer / DataView. */
int io_get_bytes(napi_env env, napi_value v, const uint8_t **data, size_t *len);
napi_value io_int(napi_env env, int64_t v);
/* Interface index of `name` in the network namespace of socket `fd` (if_nametoindex would use ours); -1 + errno. */
int io_ifindex(int fd, const char *name);

/*
 * The sendmmsg loop of udpSendBatch (udp.c) and raw6SendBatch (raw6.c). `data` holds `count` packets back to
 * back; `meta` holds one `stride`-byte record per packet, host byte order: u32 length at 0, and an i32 errno
 * written back at `errno_at` (0 = handed to the kernel). `dest` fills one packet's destination from its record
 * and bytes; it returns 0, an errno > 0 to fail that packet without sending it, or -1 for a malformed record.
 * Returns how many packets failed, or -1 (nothing after the bad record sent) when a record's length runs past
 * `data` or `dest` said -1: the caller throws a TypeError.
 */
typedef int (*io_dest_fn)(const uint8_t *record, const uint8_t *packet, uint32_t len, struct sockaddr_storage *to, socklen_t *tolen);
int io_send_batch(int fd, const uint8_t *data, size_t dlen, uint8_t *meta, int count, size_t stride, size_t errno_at, io_dest_fn dest);

/*
 * The N-API side of both: `name(fd, data, meta, count)` -> number of packets that failed, over io_send_batch.
 * Throws a TypeError with `usage` for bad arguments, and with `bad_record` when io_send_batch returns -1.
 */
napi_value io_send_batch_call(napi_env env, napi_callback_info info, size_t stride, size_t errno_at, io_dest_fn dest, const char *usage, const char *bad_record);

/*
 * Netns switch. `netns` is a path (/run/netns/x, /proc/<pid>/ns/net) or a name under /run/netns; empty = stay.
 * io_netns_enter saves the current namespace in *saved (-1 when no switch happened); io_netns_leave restores it
 * and aborts the process if it cannot: continuing in the wrong namespace would silently misroute everything.
 */
int io_netns_enter(const char *netns, int *saved);
void io_netns_leave(int saved);

#endif
