// How the teredo-server puts a client's packet for a native IPv6 destination on the native network (RFC 4380
// §5.3.1: such packets "are forwarded [...] using regular IPv6 routing"), chosen by `nativeForwarding`:
//
//   raw  (the default without forwardInterface) a send-only raw IPv6 socket (src/io/raw-ipv6.ts): the packet
//        goes out as the client wrote it, routed by the kernel. Needs CAP_NET_RAW only. Nothing comes back
//        this way: native hosts answer a Teredo address through a relay (RFC 4380 §5.4), which is how a
//        client's direct connectivity test (§5.2.9) finds its relay. miredo-server works the same way.
//   tun  the TUN device forwardInterface (opened by agent.ts): also brings native packets for this server's
//        clients back to them. Needs CAP_NET_ADMIN and net.ipv6.conf.all.forwarding=1.
//   off  such packets are dropped (counted as server-no-native-forwarding).
//
// Either way the host needs a route toward the native IPv6 network. Without one every forward fails with
// ENETUNREACH, so start-up says so once (a "no ipv6 route" warning) and `status` shows it (nativeIpv6Route).
// The route check reads /proc/net/ipv6_route of this network namespace.

import type { NativeIpv6Sender } from '../../src/io/ports.js';
import type { Logger } from '../../src/runtime/logger.js';
import type { TeredoServerStatus } from './status.js';

export const NATIVE_FORWARDING_MODES = ['raw', 'tun', 'off'] as const;
export type NativeForwardingMode = (typeof NATIVE_FORWARDING_MODES)[number];

/** The effective mode: the configured one, else tun when a forward interface is named, else raw. */
export function nativeForwardingMode(c: { readonly nativeForwarding: NativeForwardingMode | undefined; readonly forwardInterface: string | undefined }): NativeForwardingMode {
  return c.nativeForwarding ?? (c.forwardInterface !== undefined ? 'tun' : 'raw');
}

/** What status shows about native forwarding (defined with the rest of the status in status.ts). */
export type NativeForwardingStatus = Pick<TeredoServerStatus, 'nativeForwarding' | 'nativeIpv6Route'>;

export interface NativeForwarding {
  readonly mode: NativeForwardingMode;
  /** The raw socket, in mode raw only. */
  readonly sender: NativeIpv6Sender | undefined;
  status(): NativeForwardingStatus;
}

/** What start-up should say when the raw socket cannot be opened (appended to the host's IO_RAW_SOCKET message). */
export const RAW_SOCKET_HINT = 'or run with --native-forwarding off (packets for native IPv6 are then dropped) or tun with --forward-interface';

/**
 * Native forwarding over `sender` (the raw socket the host opened, in mode raw), with the route checked once:
 * a warning when this namespace has no route toward native IPv6 (`route` says; undefined = unknown).
 */
export function startNativeForwarding(mode: NativeForwardingMode, sender: NativeIpv6Sender | undefined, logger: Logger, route: () => boolean | undefined): NativeForwarding {
  if (mode !== 'off' && route() === false) {
    logger.warn({ nativeForwarding: mode, effect: 'packets for native IPv6 destinations fail with ENETUNREACH (i/o errors)' }, 'no ipv6 route');
  }
  return {
    mode,
    sender,
    status: () => ({ nativeForwarding: mode, nativeIpv6Route: mode === 'off' ? null : (route() ?? null) }),
  };
}
