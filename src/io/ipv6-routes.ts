// This network namespace's IPv6 routes, as agents need them: whether a packet for a native global unicast
// address has a way out (teredo-server's native forwarding warns and shows it in status when not).

import { readFileSync } from 'node:fs';

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
