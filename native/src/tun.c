/*
 * TUN devices and interface configuration for the teredo_io addon (Linux only).
 *
 * tunOpen opens /dev/net/tun and issues TUNSETIFF with IFF_TUN | IFF_NO_PI, which creates the named device or
 * attaches to an existing persistent one; the fd is non-blocking so the poller can drain it in batches. With
 * `offload` it adds IFF_VNET_HDR and TUNSETOFFLOAD (checksum, TSO4/6 and, where the kernel has it, USO4/6):
 * every read and write then carries a virtio_net_hdr (vnet.h, tun-offload.c). A kernel that refuses the
 * offloads gets a plain device (IFF_VNET_HDR is only asked for after TUNSETOFFLOAD was seen to work). Alongside
 * it we open an AF_INET6 datagram "control" socket in the same network namespace: configuration ioctls act on
 * the namespace of the socket they are issued on, so a device created in another namespace (the tests do this)
 * is configured there without any further namespace switching. Configuration uses the classic ioctls
 * (SIOCSIFMTU, SIOCSIFFLAGS, SIOCSIFADDR/SIOCDIFADDR with struct in6_ifreq, SIOCADDRT/SIOCDELRT with
 * struct in6_rtmsg), which needs no netlink code and no `ip` binary at run time.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/route.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* glibc's <netinet/in.h> lacks struct in6_ifreq (it lives in linux/ipv6.h, which clashes with libc headers). */
struct io_in6_ifreq {
  struct in6_addr ifr6_addr;
  uint32_t ifr6_prefixlen;
  int ifr6_ifindex;
};

#define TUN_F_USO4 0x20 /* Linux 6.2; older uapi headers lack them */
#define TUN_F_USO6 0x40

/* offload: 0 plain, 1 with TSO, 2 with TSO and USO (open_device). */
static napi_value make_result(napi_env env, int fd, int ctl, const char *name, int ifindex, int offload) {
  napi_value out, jname;
  NAPI_CALL(env, napi_create_object(env, &out));
  NAPI_CALL(env, napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &jname));
  napi_set_named_property(env, out, "fd", io_int(env, fd));
  napi_set_named_property(env, out, "ctlFd", io_int(env, ctl));
  napi_set_named_property(env, out, "name", jname);
  napi_set_named_property(env, out, "ifindex", io_int(env, ifindex));
  napi_value jo;
  napi_get_boolean(env, offload != 0, &jo);
  napi_set_named_property(env, out, "offload", jo);
  napi_set_named_property(env, out, "merge", io_int(env, offload == 2 ? 3 : offload)); /* vnet.h VNET_MERGE_* */
  return out;
}

/*
 * TUNSETOFFLOAD with USO if the kernel knows it (2), else without (1), or 0. A device
 * attached to (persistent) or a kernel without TUNSETOFFLOAD answers EINVAL: we then go without.
 */
static int set_offload(int fd) {
  unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0) return 2;
  return ioctl(fd, TUNSETOFFLOAD, base) == 0;
}

/* TUNSETIFF with `flags`; 0 or -1 with errno. */
static int set_iff(int fd, const char *name, short flags, struct ifreq *ifr) {
  memset(ifr, 0, sizeof *ifr);
  ifr->ifr_flags = flags;
  memcpy(ifr->ifr_name, name, strlen(name));
  return ioctl(fd, TUNSETIFF, ifr);
}

/*
 * Opens the device with IFF_VNET_HDR and offloads, or (offload false, or the kernel refusing) plainly: 2 with
 * TSO and USO, 1 with TSO, 0 plain, -1 / -2 + errno. The vnet attempt uses its own fd: a refused one is closed and forgotten.
 */
static int open_device(const char *name, int offload, int *fd_out, struct ifreq *ifr) {
  if (offload) {
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return -1;
    int hdr = 10; /* struct virtio_net_hdr */
    int level = 0;
    if (set_iff(fd, name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, ifr) == 0 && ioctl(fd, TUNSETVNETHDRSZ, &hdr) == 0 && (level = set_offload(fd)) > 0) {
      *fd_out = fd;
      return level;
    }
    close(fd); /* a device this call created goes with it (not persistent) */
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  if (set_iff(fd, name, IFF_TUN | IFF_NO_PI, ifr) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -2;
  }
  *fd_out = fd;
  return 0;
}

/*
 * tunOpen(name, netns, offload) -> { fd, ctlFd, name, ifindex, offload, merge }. name "" lets the kernel pick
 * tunN. `offload` in the result says whether the device reads and writes virtio-net frames, `merge` which
 * superframes it takes on write (vnet.h VNET_MERGE_*: 1 TCP, 3 TCP and UDP).
 */
static napi_value tun_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  char name[IFNAMSIZ], netns[4096];
  int want = 0;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !io_get_string(env, argv[0], name, sizeof name) || !io_get_string(env, argv[1], netns, sizeof netns) ||
      !io_get_bool(env, argv[2], &want))
    return io_throw_type(env, "tunOpen(name: string (max 15 chars), netns: string | null, offload: boolean)");
  int saved;
  if (io_netns_enter(netns, &saved) < 0) return io_throw(env, "IO_NETNS", "setns", errno, netns);
  int fd = -1;
  struct ifreq ifr;
  int offload = open_device(name, want, &fd, &ifr);
  if (offload < 0) {
    int e = errno;
    io_netns_leave(saved);
    if (offload == -1) return io_throw(env, "IO_TUN_OPEN", "open", e, "/dev/net/tun");
    return io_throw(env, "IO_TUN_OPEN", "ioctl(TUNSETIFF)", e, name);
  }
  int ctl = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  io_netns_leave(saved);
  if (ctl < 0) {
    int e = errno;
    close(fd);
    return io_throw(env, "IO_TUN_OPEN", "socket(AF_INET6)", e, NULL);
  }
  int ifindex = io_ifindex(ctl, ifr.ifr_name);
  if (ifindex < 0) {
    int e = errno;
    close(fd);
    close(ctl);
    return io_throw(env, "IO_TUN_OPEN", "ioctl(SIOCGIFINDEX)", e, ifr.ifr_name);
  }
  return make_result(env, fd, ctl, ifr.ifr_name, ifindex, offload);
}

/* ifSetMtu(ctlFd, name, mtu) */
static napi_value if_set_mtu(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t ctl, mtu;
  char name[IFNAMSIZ];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !io_get_int(env, argv[0], &ctl) || !io_get_string(env, argv[1], name, sizeof name) ||
      !io_get_int(env, argv[2], &mtu))
    return io_throw_type(env, "ifSetMtu(ctlFd, name, mtu)");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name)); /* io_get_string checked it fits */
  ifr.ifr_mtu = mtu;
  if (ioctl(ctl, SIOCSIFMTU, &ifr) < 0) return io_throw(env, "IO_IF_CONFIG", "ioctl(SIOCSIFMTU)", errno, name);
  return NULL;
}

/* ifSetUp(ctlFd, name, up) */
static napi_value if_set_up(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t ctl;
  int up;
  char name[IFNAMSIZ];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || !io_get_int(env, argv[0], &ctl) || !io_get_string(env, argv[1], name, sizeof name) ||
      !io_get_bool(env, argv[2], &up))
    return io_throw_type(env, "ifSetUp(ctlFd, name, up)");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name)); /* io_get_string checked it fits */
  if (ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0) return io_throw(env, "IO_IF_CONFIG", "ioctl(SIOCGIFFLAGS)", errno, name);
  if (up)
    ifr.ifr_flags |= IFF_UP;
  else
    ifr.ifr_flags &= ~IFF_UP;
  if (ioctl(ctl, SIOCSIFFLAGS, &ifr) < 0) return io_throw(env, "IO_IF_CONFIG", "ioctl(SIOCSIFFLAGS)", errno, name);
  return NULL;
}

/* ifAddress6(ctlFd, ifindex, addr16, prefixLen, add: boolean) */
static napi_value if_address6(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t ctl, ifindex, plen;
  int add;
  const uint8_t *addr;
  size_t len;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !io_get_int(env, argv[0], &ctl) || !io_get_int(env, argv[1], &ifindex) ||
      !io_get_bytes(env, argv[2], &addr, &len) || len != 16 || !io_get_int(env, argv[3], &plen) || plen < 0 ||
      plen > 128 || !io_get_bool(env, argv[4], &add))
    return io_throw_type(env, "ifAddress6(ctlFd, ifindex, addr: 16 bytes, prefixLen 0..128, add)");
  struct io_in6_ifreq req;
  memset(&req, 0, sizeof req);
  memcpy(&req.ifr6_addr, addr, 16);
  req.ifr6_prefixlen = (uint32_t)plen;
  req.ifr6_ifindex = ifindex;
  if (ioctl(ctl, add ? SIOCSIFADDR : SIOCDIFADDR, &req) < 0)
    return io_throw(env, "IO_IF_CONFIG", add ? "ioctl(SIOCSIFADDR)" : "ioctl(SIOCDIFADDR)", errno, NULL);
  return NULL;
}

/* ifRoute6(ctlFd, ifindex, prefix16, prefixLen, metric, add: boolean) */
static napi_value if_route6(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  int32_t ctl, ifindex, plen, metric;
  int add;
  const uint8_t *prefix;
  size_t len;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6 || !io_get_int(env, argv[0], &ctl) || !io_get_int(env, argv[1], &ifindex) ||
      !io_get_bytes(env, argv[2], &prefix, &len) || len != 16 || !io_get_int(env, argv[3], &plen) || plen < 0 ||
      plen > 128 || !io_get_int(env, argv[4], &metric) || metric < 0 || !io_get_bool(env, argv[5], &add))
    return io_throw_type(env, "ifRoute6(ctlFd, ifindex, prefix: 16 bytes, prefixLen 0..128, metric >= 0, add)");
  struct in6_rtmsg rt;
  memset(&rt, 0, sizeof rt);
  memcpy(&rt.rtmsg_dst, prefix, 16);
  rt.rtmsg_dst_len = (uint16_t)plen;
  rt.rtmsg_metric = (uint32_t)metric;
  rt.rtmsg_ifindex = ifindex;
  rt.rtmsg_flags = RTF_UP;
  if (ioctl(ctl, add ? SIOCADDRT : SIOCDELRT, &rt) < 0)
    return io_throw(env, "IO_IF_CONFIG", add ? "ioctl(SIOCADDRT)" : "ioctl(SIOCDELRT)", errno, NULL);
  return NULL;
}

/*
 * writeFd(fd, bytes[, offset, length]) -> bytes written, or -errno (EAGAIN, EIO when the device is down, ...).
 * Never throws on I/O. offset/length select a packet inside a larger buffer (a lent receive batch) without the
 * caller creating a view per packet.
 */
static napi_value write_fd(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t fd;
  int32_t offset = 0;
  int32_t length = -1;
  const uint8_t *data;
  size_t len;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2 || !io_get_int(env, argv[0], &fd) || !io_get_bytes(env, argv[1], &data, &len) ||
      (argc >= 3 && !io_get_int(env, argv[2], &offset)) || (argc >= 4 && !io_get_int(env, argv[3], &length)))
    return io_throw_type(env, "writeFd(fd, bytes: Uint8Array, offset?: number, length?: number)");
  if (length < 0) length = (int32_t)len - offset;
  if (offset < 0 || length < 0 || (size_t)offset + (size_t)length > len)
    return io_throw_type(env, "writeFd: offset/length outside the buffer");
  ssize_t n = write(fd, data + offset, (size_t)length);
  return io_int(env, n < 0 ? -errno : n);
}

/* closeFd(fd) */
static napi_value close_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || !io_get_int(env, argv[0], &fd)) return io_throw_type(env, "closeFd(fd)");
  close(fd);
  return NULL;
}

napi_value tun_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tunOpen", NULL, tun_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifSetMtu", NULL, if_set_mtu, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifSetUp", NULL, if_set_up, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifAddress6", NULL, if_address6, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifRoute6", NULL, if_route6, NULL, NULL, NULL, napi_enumerable, NULL},
      {"writeFd", NULL, write_fd, NULL, NULL, NULL, napi_enumerable, NULL},
      {"closeFd", NULL, close_fd, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
