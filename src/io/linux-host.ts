// What agents read about their host from the Linux kernel, behind one interface (HostFacts), so there is one
// reader and one parser of each source, and tests use the fake (test/fakes/fake-host.ts) instead of /proc:
//
//   ipv6Forwarding, ipv6Mtu  /proc/sys/net/ipv6/conf/<if>/{forwarding,mtu}   (<if> = all for the host switch)
//   ipv6Routes               /proc/net/ipv6_route   (parseIpv6Routes)
//   ipv6Addresses            /proc/net/if_inet6     (parseIfInet6: ifindex, prefix length, scope, DAD flags)
//   interfaces               getifaddrs(3) through os.networkInterfaces(): names, loopback, MAC, IPv4 addresses
//
// All of it is per network namespace of the reading process. Nothing here is on the data path: agents read
// these facts at start, on reload or on a slow poll, so each call reads the source afresh and allocates freely.
// A source that cannot be read (no IPv6 in the kernel, no such interface) gives undefined, never an exception.
// Questions asked of the facts are pure functions below (hasNativeIpv6Route, hasIpv6DefaultRoute), so the fake
// answers them exactly as the real host does.

import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { fromHex } from '../wire/bytes.js';
import { parseIpv4 } from '../wire/ipv4.js';

/** One line of /proc/net/ipv6_route. */
export interface Ipv6Route {
  /** Destination prefix, 16 bytes. */
  readonly destination: Uint8Array;
  readonly prefixLength: number;
  readonly metric: number;
  /** RTF_* flags (include/uapi/linux/route.h, ipv6_route.h): RTF_UP, RTF_REJECT, RTF_LOCAL below. */
  readonly flags: number;
  readonly device: string;
}

/** One line of /proc/net/if_inet6: an IPv6 address of an interface. */
export interface Ipv6InterfaceAddress {
  /** 16 bytes. */
  readonly address: Uint8Array;
  readonly ifindex: number;
  readonly prefixLength: number;
  /** IPV6_ADDR_* scope >> 16 (include/net/ipv6.h): SCOPE_GLOBAL, SCOPE_LINK below. */
  readonly scope: number;
  /** IFA_F_* flags (include/uapi/linux/if_addr.h): IFA_F_TENTATIVE etc. below. */
  readonly flags: number;
  readonly device: string;
}

/** An interface as getifaddrs(3) reports it: only interfaces with at least one IP address are listed. */
export interface HostInterface {
  readonly name: string;
  /** A loopback interface (IFF_LOOPBACK). */
  readonly loopback: boolean;
  /** Link-layer address, 6 bytes; undefined when the link has none. */
  readonly mac: Uint8Array | undefined;
  /** Its IPv4 addresses in the kernel's order, as text and as int32 (src/wire/ipv4.ts). */
  readonly ipv4: readonly { readonly text: string; readonly address: number }[];
}

/** Kernel facts about this host (network namespace); see the table at the top. */
export interface HostFacts {
  /** net.ipv6.conf.<ifname>.forwarding, `all` by default (the host's switch); undefined when unreadable. */
  ipv6Forwarding(ifname?: string): boolean | undefined;
  /** net.ipv6.conf.<ifname>.mtu: the interface's IPv6 MTU in bytes; undefined when unknown. */
  ipv6Mtu(ifname: string): number | undefined;
  /** The IPv6 routing table (main and local tables); undefined when it cannot be read (no IPv6). */
  ipv6Routes(): readonly Ipv6Route[] | undefined;
  /** Every IPv6 address of every interface, tentative ones included (see flags); undefined when unreadable. */
  ipv6Addresses(): readonly Ipv6InterfaceAddress[] | undefined;
  /** The interfaces with an address, in the kernel's order. */
  interfaces(): readonly HostInterface[];
}

/** /proc/net/ipv6_route flags (include/uapi/linux/route.h, ipv6_route.h). */
export const RTF_UP = 0x0001;
export const RTF_REJECT = 0x0200;
export const RTF_LOCAL = 0x8000_0000;

/** /proc/net/if_inet6 flags (include/uapi/linux/if_addr.h) and scopes (include/net/ipv6.h >> 16). */
export const IFA_F_TEMPORARY = 0x01;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_TENTATIVE = 0x40;
export const SCOPE_GLOBAL = 0x00;
export const SCOPE_LINK = 0x20;

const HEX128 = /^[0-9a-f]{32}$/i;

/**
 * Parses /proc/net/ipv6_route: per line dest(32 hex) dest_plen src(32) src_plen next_hop(32) metric refcnt use
 * flags device, numbers in hex (net/ipv6/route.c, ipv6_route_native_seq_show). Malformed lines are skipped.
 */
export function parseIpv6Routes(text: string): Ipv6Route[] {
  const out: Ipv6Route[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !HEX128.test(f[0]!)) continue;
    const prefixLength = parseInt(f[1]!, 16);
    const metric = parseInt(f[5]!, 16);
    const flags = parseInt(f[8]!, 16);
    if (!(prefixLength >= 0 && prefixLength <= 128) || Number.isNaN(metric) || Number.isNaN(flags)) continue;
    out.push({ destination: fromHex(f[0]!), prefixLength, metric, flags, device: f[9]! });
  }
  return out;
}

/**
 * Parses /proc/net/if_inet6: per line address(32 hex) ifindex prefix_len scope flags device, numbers in hex
 * (net/ipv6/addrconf.c, if6_seq_show). Malformed lines are skipped.
 */
export function parseIfInet6(text: string): Ipv6InterfaceAddress[] {
  const out: Ipv6InterfaceAddress[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !HEX128.test(f[0]!)) continue;
    const [ifindex, prefixLength, scope, flags] = f.slice(1, 5).map((x) => parseInt(x, 16));
    if ([ifindex, prefixLength, scope, flags].some((n) => Number.isNaN(n))) continue;
    out.push({ address: fromHex(f[0]!), ifindex: ifindex!, prefixLength: prefixLength!, scope: scope!, flags: flags!, device: f[5]! });
  }
  return out;
}

/**
 * True when a route can carry a packet to a native global unicast address: up, not a reject (blackhole /
 * unreachable) or local route, not through `lo`, and covering part of 2000::/3 (RFC 4291 §2.4) outside the
 * Teredo prefix 2001::/32 (a Teredo route does not reach the native network). A default route counts; the
 * connected /64 of an interface with a global address counts too.
 */
export function hasNativeIpv6Route(routes: readonly Ipv6Route[]): boolean {
  return routes.some((r) => (r.flags & RTF_UP) !== 0 && (r.flags & (RTF_REJECT | RTF_LOCAL)) === 0 && r.device !== 'lo' && coversGlobalUnicast(r) && !insideTeredo(r));
}

/**
 * True when there is a default route (::/0) on a device other than `except`, the kernel's unreachable
 * placeholder (a reject route on `lo`) aside.
 */
export function hasIpv6DefaultRoute(routes: readonly Ipv6Route[], except?: string): boolean {
  return routes.some((r) => r.prefixLength === 0 && r.destination.every((b) => b === 0) && r.device !== except && (r.flags & RTF_REJECT) === 0);
}

/** Whether the route's prefix and 2000::/3 overlap: they share their first min(prefixLength, 3) bits. */
function coversGlobalUnicast(r: Ipv6Route): boolean {
  const shift = Math.max(0, 3 - r.prefixLength);
  return r.prefixLength === 0 || r.destination[0]! >> 5 >> shift === 0b001 >> shift;
}

/** Whether the route lies inside 2001:0000::/32. */
function insideTeredo(r: Ipv6Route): boolean {
  const d = r.destination;
  return r.prefixLength >= 32 && d[0] === 0x20 && d[1] === 0x01 && d[2] === 0 && d[3] === 0;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The interfaces of an os.networkInterfaces() table (getifaddrs), as HostInterface. */
export function hostInterfacesOf(table: NodeJS.Dict<NetworkInterfaceInfo[]>): HostInterface[] {
  return Object.entries(table).map(([name, infos = []]) => {
    const mac = infos[0]?.mac;
    return {
      name,
      loopback: infos.some((i) => i.internal),
      mac: mac === undefined || mac === '00:00:00:00:00:00' ? undefined : fromHex(mac.replace(/:/g, '')),
      ipv4: infos.filter((i) => i.family === 'IPv4').map((i) => ({ text: i.address, address: parseIpv4(i.address) })),
    };
  });
}

/** The real host: reads the kernel's files of this network namespace at every call. */
export const linuxHost: HostFacts = {
  ipv6Forwarding(ifname = 'all') {
    const v = readText(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`)?.trim();
    return v === undefined ? undefined : v !== '0';
  },
  ipv6Mtu(ifname) {
    const mtu = Number(readText(`/proc/sys/net/ipv6/conf/${ifname}/mtu`)?.trim());
    return Number.isInteger(mtu) && mtu > 0 ? mtu : undefined;
  },
  ipv6Routes() {
    const text = readText('/proc/net/ipv6_route');
    return text === undefined ? undefined : parseIpv6Routes(text);
  },
  ipv6Addresses() {
    const text = readText('/proc/net/if_inet6');
    return text === undefined ? undefined : parseIfInet6(text);
  },
  interfaces() {
    return hostInterfacesOf(networkInterfaces());
  },
};
