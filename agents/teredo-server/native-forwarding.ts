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
// The route check reads /proc/net/ipv6_route of this network namespace.

import { readFileSync } from 'node:fs';
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
  const route = deps.nativeIpv6Route ?? readNativeIpv6Route;
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

/** /proc/net/ipv6_route flags (include/uapi/linux/route.h, ipv6_route.h). */
const RTF_UP = 0x0001;
const RTF_REJECT = 0x0200;
const RTF_LOCAL = 0x8000_0000;

/**
 * True when one of the routes in /proc/net/ipv6_route text can carry a packet to a native global unicast
 * address: up, not a reject (blackhole / unreachable) or local route, not through `lo`, and covering part of
 * 2000::/3 (RFC 4291 §2.4) outside the Teredo prefix 2001::/32 (a Teredo route does not reach the native
 * network). A default route counts; the connected /64 of an interface with a global address counts too.
 */
export function hasNativeIpv6Route(text: string): boolean {
  for (const line of text.split('\n')) {
    // dest(32 hex) plen(2) src(32) src_plen(2) next_hop(32) metric refcnt use flags(8) device
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const dest = f[0]!;
    const plen = parseInt(f[1]!, 16);
    const flags = parseInt(f[8]!, 16);
    if (!/^[0-9a-f]{32}$/i.test(dest) || !(plen >= 0 && plen <= 128) || Number.isNaN(flags)) continue;
    if ((flags & RTF_UP) === 0 || (flags & (RTF_REJECT | RTF_LOCAL)) !== 0 || f[9] === 'lo') continue;
    if (coversGlobalUnicast(dest, plen) && !insideTeredo(dest, plen)) return true;
  }
  return false;
}

/** Whether dest/plen and 2000::/3 overlap: they share their first min(plen, 3) bits. */
function coversGlobalUnicast(dest: string, plen: number): boolean {
  const top3 = parseInt(dest[0]!, 16) >> 1; // first 3 bits of the first nibble
  return plen === 0 || (top3 >> Math.max(0, 3 - plen)) === (0b001 >> Math.max(0, 3 - plen));
}

/** Whether dest/plen lies inside 2001:0000::/32. */
function insideTeredo(dest: string, plen: number): boolean {
  return plen >= 32 && dest.slice(0, 8).toLowerCase() === '20010000';
}

/** Reads this network namespace's IPv6 routes; undefined when /proc/net/ipv6_route cannot be read (no IPv6). */
export function readNativeIpv6Route(): boolean | undefined {
  try {
    return hasNativeIpv6Route(readFileSync('/proc/net/ipv6_route', 'utf8'));
  } catch {
    return undefined;
  }
}
