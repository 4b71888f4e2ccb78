/*
 * teredo_io: the project's own N-API addon for what Node.js cannot do by itself on Linux: a TUN device (tun.c),
 * a raw ICMPv6 socket with ancillary data (icmp6.c), a UDP socket with batched receive and send and the DF
 * bit clear (udp.c) and a send-only raw IPv6 socket for whole packets (raw6.c), plus the batched uv_poll
 * receive loop the first three use (poller.c), and the kernel offloads of issue 18 (virtio-net superframes on
 * the TUN device: vnet.c, tun-offload.c; UDP GSO/GRO: udp.c, poller.c). It is plain C against the
 * stable Node-API (version 8), so one build works on every Node >= 20. The TypeScript adapters in src/io/ are
 * the only callers; see docs/performance.md "TUN and raw ICMPv6".
 */
#include "common.h"

napi_value poller_init(napi_env env, napi_value exports);
napi_value tun_init(napi_env env, napi_value exports);
napi_value icmp6_init(napi_env env, napi_value exports);
napi_value udp_init(napi_env env, napi_value exports);
napi_value raw6_init(napi_env env, napi_value exports);
napi_value tun_offload_init(napi_env env, napi_value exports);

static napi_value init(napi_env env, napi_value exports) {
  if (!poller_init(env, exports) || !tun_init(env, exports) || !icmp6_init(env, exports) || !udp_init(env, exports) ||
      !raw6_init(env, exports) || !tun_offload_init(env, exports))
    return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
