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
 * Netns switch. `netns` is a path (/run/netns/x, /proc/<pid>/ns/net) or a name under /run/netns; empty = stay.
 * io_netns_enter saves the current namespace in *saved (-1 when no switch happened); io_netns_leave restores it
 * and aborts the process if it cannot: continuing in the wrong namespace would silently misroute everything.
 */
int io_netns_enter(const char *netns, int *saved);
void io_netns_leave(int saved);

#endif
