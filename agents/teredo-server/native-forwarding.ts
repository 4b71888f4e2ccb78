// How the teredo-server puts a client's packet for a native IPv6 destination on the native network (RFC 4380
// §5.3.1: such packets "are forwarded [...] using regular IPv6 routing"), chosen by `nativeForwarding`:
//
//   raw  (the default without forwardInterface) a send-only raw IPv6 socket (src/io/raw-ipv6.ts): the packet
//        goes out as the client wrote it, routed by the kernel. Needs CAP_NET_RAW only. Nothing comes back
//        this way: native hosts answer a Teredo address through a relay (RFC 4380 §5.4), which is how a
//        client's direct connectivity test (§5.2.9) finds its relay. miredo-server works the same way.
//   tun  the TUN device forwardInterface (opened by server.ts): also brings native packets for this server's
//        clients back to them. Needs CAP_NET_ADMIN and net.ipv6.conf.all.forwarding=1.
//   off  such packets are dropped (counted as server-no-native-forwarding).
//
// Either way the host needs a route toward the native IPv6 network. Without one every forward fails with
// ENETUNREACH, so start-up says so once (a "no ipv6 route" warning) and `status` shows it (nativeIpv6Route).
// The route check reads this network namespace's routes (src/io/linux-host.ts, hasNativeIpv6Route).

import { hasNativeIpv6Route, linuxHost, type HostFacts } from '../../src/io/linux-host.js';
import type { NativeIpv6Sender } from '../../src/io/ports.js';
import { openRawIpv6Sender } from '../../src/io/raw-ipv6.js';
import { AgentError } from '../../src/runtime/errors.js';
import type { Logger } from '../../src/runtime/logger.js';
import type { TeredoServerStatus } from './status.js';

export const NATIVE_FORWARDING_MODES = ['raw', 'tun', 'off'] as const;
export type NativeForwardingMode = (typeof NATIVE_FORWARDING_MODES)[number];

/** The effective mode: the configured one, else tun when a forward interface is named, else raw. */
export function nativeForwardingMode(c: { readonly nativeForwarding: NativeForwardingMode | undefined; readonly forwardInterface: string | undefined }): NativeForwardingMode {
  return c.nativeForwarding ?? (c.forwardInterface !== undefined ? 'tun' : 'raw');
}

/** Seams for tests; each defaults to the real thing. */
export interface NativeForwardingDeps {
  openRawIpv6?: () => NativeIpv6Sender;
  /** Whether this network namespace has a route toward native IPv6; undefined when unknown. */
  nativeIpv6Route?: () => boolean | undefined;
}

/** What status shows about native forwarding (defined with the rest of the status in status.ts). */
export type NativeForwardingStatus = Pick<TeredoServerStatus, 'nativeForwarding' | 'nativeIpv6Route'>;

export interface NativeForwarding {
  readonly mode: NativeForwardingMode;
  /** The raw socket, in mode raw only. */
  readonly sender: NativeIpv6Sender | undefined;
  status(): NativeForwardingStatus;
  close(): void;
}

/**
 * Opens the raw socket (mode raw) and checks the route once, logging a warning when there is none.
 * Throws AgentError IO_RAW_SOCKET when the socket cannot be opened (no CAP_NET_RAW).
 */
export function startNativeForwarding(mode: NativeForwardingMode, logger: Logger, deps: NativeForwardingDeps = {}): NativeForwarding {
  let sender: NativeIpv6Sender | undefined;
  if (mode === 'raw') {
    try {
      sender = (deps.openRawIpv6 ?? openRawIpv6Sender)();
    } catch (err) {
      throw new AgentError(
        'IO_RAW_SOCKET',
        `cannot open the raw IPv6 socket for native forwarding (needs CAP_NET_RAW): ${(err as Error).message}; or run with --native-forwarding off (packets for native IPv6 are then dropped) or tun with --forward-interface`,
        { cause: err },
      );
    }
  }
  const route = deps.nativeIpv6Route ?? ((): boolean | undefined => nativeIpv6RouteOf(linuxHost));
  if (mode !== 'off' && route() === false) {
    logger.warn({ nativeForwarding: mode, effect: 'packets for native IPv6 destinations fail with ENETUNREACH (i/o errors)' }, 'no ipv6 route');
  }
  return {
    mode,
    sender,
    status: () => ({ nativeForwarding: mode, nativeIpv6Route: mode === 'off' ? null : (route() ?? null) }),
    close: () => sender?.close(),
  };
}

/** Whether this network namespace has a route toward native IPv6; undefined when unknown (no IPv6). */
function nativeIpv6RouteOf(host: Pick<HostFacts, 'ipv6Routes'>): boolean | undefined {
  const routes = host.ipv6Routes();
  return routes === undefined ? undefined : hasNativeIpv6Route(routes);
}
