/*
 * Raw ICMPv6 sockets for the teredo_io addon, set up the way RFC 4861 Neighbor Discovery needs them:
 *  - SO_BINDTODEVICE: one socket per interface, so the RA sender never hears or answers other links;
 *  - IPV6_UNICAST_HOPS / IPV6_MULTICAST_HOPS = 255 (RFC 4861 §6.1.2: receivers drop RAs with another hop limit);
 *  - IPV6_CHECKSUM offset 2 at level SOL_RAW: Linux already fills the ICMPv6 checksum and refuses the option at
 *    level IPPROTO_IPV6 on ICMPv6 sockets (RFC 3542 §3.1), so it is set where the kernel accepts it;
 *  - IPV6_MULTICAST_LOOP off, so our own multicast RAs are not read back (radvd learned this the hard way);
 *  - IPV6_RECVPKTINFO + IPV6_RECVHOPLIMIT, so every message arrives with its interface index and the hop limit
 *    it was received with (RFC 4861 §6.1.1: a router must drop an RS whose hop limit is not 255);
 *  - an ICMP6_FILTER type filter (RFC 3542 §3.2) so the kernel only wakes us for the types we handle.
 * Group membership (IPV6_JOIN_GROUP, e.g. ff02::2 for a router) and sending (optionally from a chosen source) are
 * separate calls.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int set_int(int fd, int level, int opt, int value) {
  return setsockopt(fd, level, opt, &value, sizeof value);
}

/* Applies the type filter (`types` null/undefined = pass all). Returns 0 on bad arguments; *failed names a failed syscall. */
static int apply_filter(napi_env env, int fd, napi_value types, const char **failed) {
  napi_valuetype t;
  struct icmp6_filter filter;
  *failed = NULL;
  if (napi_typeof(env, types, &t) != napi_ok) return 0;
  if (t == napi_undefined || t == napi_null) {
    ICMP6_FILTER_SETPASSALL(&filter);
  } else {
    bool is_array = false;
    uint32_t n = 0;
    if (napi_is_array(env, types, &is_array) != napi_ok || !is_array || napi_get_array_length(env, types, &n) != napi_ok)
      return 0;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    for (uint32_t i = 0; i < n; i++) {
      napi_value el;
      int32_t type;
      if (napi_get_element(env, types, i, &el) != napi_ok || !io_get_int(env, el, &type) || type < 0 || type > 255)
        return 0;
      ICMP6_FILTER_SETPASS(type, &filter);
    }
  }
  if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0) *failed = "setsockopt(ICMP6_FILTER)";
  return 1;
}

/* icmp6Open(ifname, netns, hopLimit, multicastLoop, types | null) -> { fd, ifindex } */
static napi_value icmp6_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5], out;
  char ifname[IFNAMSIZ], netns[4096];
  int32_t hops;
  int loop;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !io_get_string(env, argv[0], ifname, sizeof ifname) || !ifname[0] ||
      !io_get_string(env, argv[1], netns, sizeof netns) || !io_get_int(env, argv[2], &hops) || hops < 0 ||
      hops > 255 || !io_get_bool(env, argv[3], &loop))
    return io_throw_type(env, "icmp6Open(ifname, netns | null, hopLimit 0..255, multicastLoop, types | null)");
  int saved;
  if (io_netns_enter(netns, &saved) < 0) return io_throw(env, "IO_NETNS", "setns", errno, netns);
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  io_netns_leave(saved);
  if (fd < 0) return io_throw(env, "IO_ICMPV6_OPEN", "socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)", errno, NULL);
  const char *failed = NULL;
  int ifindex = io_ifindex(fd, ifname);
  if (ifindex < 0) failed = "ioctl(SIOCGIFINDEX)";
  else if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) < 0)
    failed = "setsockopt(SO_BINDTODEVICE)";
  else if (set_int(fd, SOL_RAW, IPV6_CHECKSUM, 2) < 0) failed = "setsockopt(SOL_RAW, IPV6_CHECKSUM)";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, hops) < 0) failed = "setsockopt(IPV6_UNICAST_HOPS)";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, hops) < 0) failed = "setsockopt(IPV6_MULTICAST_HOPS)";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, loop) < 0) failed = "setsockopt(IPV6_MULTICAST_LOOP)";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, ifindex) < 0) failed = "setsockopt(IPV6_MULTICAST_IF)";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0) failed = "setsockopt(IPV6_RECVPKTINFO)";
  else if (set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) < 0) failed = "setsockopt(IPV6_RECVHOPLIMIT)";
  else if (!apply_filter(env, fd, argv[4], &failed)) {
    close(fd);
    return io_throw_type(env, "icmp6Open: types must be an array of integers 0..255 or null");
  }
  if (failed) {
    int e = errno;
    close(fd);
    return io_throw(env, "IO_ICMPV6_OPEN", failed, e, ifname);
  }
  NAPI_CALL(env, napi_create_object(env, &out));
  napi_set_named_property(env, out, "fd", io_int(env, fd));
  napi_set_named_property(env, out, "ifindex", io_int(env, ifindex));
  return out;
}

/* icmp6SetFilter(fd, types | null) */
static napi_value icmp6_set_filter(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd;
  const char *failed = NULL;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !io_get_int(env, argv[0], &fd) || !apply_filter(env, fd, argv[1], &failed))
    return io_throw_type(env, "icmp6SetFilter(fd, types: integers 0..255 | null)");
  if (failed) return io_throw(env, "IO_ICMPV6_CONFIG", failed, errno, NULL);
  return NULL;
}

/* icmp6Membership(fd, ifindex, group16, join) */
static napi_value icmp6_membership(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd, ifindex;
  int join;
  const uint8_t *group;
  size_t len;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_int(env, argv[1], &ifindex) ||
      !io_get_bytes(env, argv[2], &group, &len) || len != 16 || !io_get_bool(env, argv[3], &join))
    return io_throw_type(env, "icmp6Membership(fd, ifindex, group: 16 bytes, join)");
  struct ipv6_mreq mreq;
  memcpy(&mreq.ipv6mr_multiaddr, group, 16);
  mreq.ipv6mr_interface = (unsigned)ifindex;
  int opt = join ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP;
  if (setsockopt(fd, IPPROTO_IPV6, opt, &mreq, sizeof mreq) < 0)
    return io_throw(env, "IO_ICMPV6_CONFIG", join ? "setsockopt(IPV6_JOIN_GROUP)" : "setsockopt(IPV6_LEAVE_GROUP)",
                    errno, NULL);
  return NULL;
}

/*
 * icmp6Send(fd, dst16, scopeId, message[, src16]) -> bytes sent or -errno. The kernel fills the checksum. With
 * src16 the message leaves from that address (IPV6_PKTINFO, RFC 3542 §6.1: it must be one of the host's; radvd's
 * AdvRASrcAddress), otherwise from the kernel's choice.
 */
static napi_value icmp6_send(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t fd, scope;
  const uint8_t *dst, *data, *src = NULL;
  size_t dlen, len, slen = 0;
  napi_valuetype t = napi_undefined;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 5 && napi_typeof(env, argv[4], &t) != napi_ok) t = napi_undefined;
  if (argc < 4 || !io_get_int(env, argv[0], &fd) || !io_get_bytes(env, argv[1], &dst, &dlen) || dlen != 16 ||
      !io_get_int(env, argv[2], &scope) || !io_get_bytes(env, argv[3], &data, &len) ||
      (t != napi_undefined && t != napi_null && (!io_get_bytes(env, argv[4], &src, &slen) || slen != 16)))
    return io_throw_type(env, "icmp6Send(fd, dst: 16 bytes, scopeId, message: Uint8Array, src?: 16 bytes)");
  struct sockaddr_in6 to;
  memset(&to, 0, sizeof to);
  to.sin6_family = AF_INET6;
  memcpy(&to.sin6_addr, dst, 16);
  to.sin6_scope_id = (uint32_t)scope;
  struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } control;
  struct msghdr msg = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1};
  if (src != NULL) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    memcpy(&pi.ipi6_addr, src, 16);
    pi.ipi6_ifindex = (unsigned)scope;
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
  ssize_t n = sendmsg(fd, &msg, 0);
  return io_int(env, n < 0 ? -errno : n);
}

napi_value icmp6_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"icmp6Open", NULL, icmp6_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"icmp6SetFilter", NULL, icmp6_set_filter, NULL, NULL, NULL, napi_enumerable, NULL},
      {"icmp6Membership", NULL, icmp6_membership, NULL, NULL, NULL, napi_enumerable, NULL},
      {"icmp6Send", NULL, icmp6_send, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
