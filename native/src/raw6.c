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
 *  - raw6SendBatch: the packets JavaScript queued during one turn leave in sendmmsg() calls (io_send_batch,
 *    common.c); each one's destination is read from its own IPv6 header (bytes 24..39).
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

/* One packet's destination: the address in its own header; EINVAL for a packet too short to hold a header. */
static int raw6_dest(const uint8_t *record, const uint8_t *packet, uint32_t len, struct sockaddr_storage *to, socklen_t *tolen) {
  if (len < IPV6_HEADER) return EINVAL;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)to;
  *sin6 = (struct sockaddr_in6){.sin6_family = AF_INET6};
  memcpy(&sin6->sin6_addr, packet + IPV6_DST_AT, 16);
  *tolen = sizeof *sin6;
  return 0;
}

/*
 * raw6SendBatch(fd, data, meta, count) -> number of packets that failed
 * `data` holds whole IPv6 packets back to back, `meta` one SEND_META record each; every record's errno field
 * is set (0 = handed to the kernel). As in udpSendBatch (the same io_send_batch loop), a failing packet
 * (ENETUNREACH: no route; EMSGSIZE; EINVAL for one shorter than an IPv6 header; EPERM from a firewall) is
 * charged to it alone and the rest still go out; EAGAIN / ENOBUFS (queue full) fails the rest of the batch.
 */
static napi_value raw6_send_batch(napi_env env, napi_callback_info info) {
  return io_send_batch_call(env, info, SEND_META, 4, raw6_dest, "raw6SendBatch(fd, data: Uint8Array, meta: Uint8Array of 8-byte records, count)",
                            "raw6SendBatch: a record's length runs past the data");
}

napi_value raw6_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"raw6Open", NULL, raw6_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"raw6SendBatch", NULL, raw6_send_batch, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
