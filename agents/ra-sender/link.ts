// What the agent needs to know about an interface, read from the kernel each poll (LINK_POLL_MS): whether it
// exists, its usable link-local address (RFC 4861 §6.2.2 / §4.2: RAs must come from it, so we wait while the
// address is tentative, i.e. RFC 4862 DAD is running, and stop while it is gone: the kernel removes it when
// the link goes down), its IPv6 MTU, its link-layer address (for the SLLAO), its global /64 prefixes (for
// `prefix auto`) and its own forwarding switch.
//
// Sources, all per network namespace of the reading process: /proc/net/if_inet6 (addresses, flags, ifindex),
// /proc/sys/net/ipv6/conf/IF/{mtu,forwarding}, and getifaddrs (os.networkInterfaces) for the MAC.

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { fromHex } from '../../src/wire/bytes.js';

/** How often the interfaces are re-read (link up/down, DAD done, addresses for `auto` changed). */
export const LINK_POLL_MS = 1000;

export interface LinkState {
  /** undefined: no such interface (or it has no IPv6 at all: disabled, or down with its addresses flushed). */
  readonly ifindex: number | undefined;
  /** The link-local address RAs leave from, once DAD is done; undefined while absent or tentative. */
  readonly linkLocal: string | undefined;
  /** A link-local address exists but is still tentative (DAD running) or failed DAD. */
  readonly tentative: boolean;
  /** The interface's IPv6 MTU; undefined when unknown. */
  readonly mtu: number | undefined;
  /** Ethernet address for the SLLAO; undefined when the link has none. */
  readonly mac: Uint8Array | undefined;
  /** The first 8 bytes (as 16-byte prefixes) of the interface's global /64 addresses, sorted, no duplicates. */
  readonly autoPrefixes: readonly Uint8Array[];
  /** /proc/sys/net/ipv6/conf/IF/forwarding; undefined when unreadable. */
  readonly forwarding: boolean | undefined;
}

export interface LinkReader {
  read(ifname: string): LinkState;
}

// /proc/net/if_inet6 flags (include/uapi/linux/if_addr.h) and scopes (include/net/ipv6.h >> 16).
const IFA_F_DADFAILED = 0x08;
const IFA_F_TENTATIVE = 0x40;
const IFA_F_TEMPORARY = 0x01;
const SCOPE_LINK = 0x20;
const SCOPE_GLOBAL = 0x00;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Parses /proc/net/if_inet6 text for one interface (exported for tests). */
export function parseIfInet6(text: string, ifname: string): Pick<LinkState, 'ifindex' | 'linkLocal' | 'tentative' | 'autoPrefixes'> {
  let ifindex: number | undefined;
  let linkLocal: string | undefined;
  let tentative = false;
  const prefixes = new Map<string, Uint8Array>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || f[5] !== ifname || !/^[0-9a-f]{32}$/.test(f[0]!)) continue;
    const addr = fromHex(f[0]!);
    ifindex = parseInt(f[1]!, 16);
    const plen = parseInt(f[2]!, 16);
    const scope = parseInt(f[3]!, 16);
    const flags = parseInt(f[4]!, 16);
    const usable = (flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0;
    if (scope === SCOPE_LINK) {
      if (usable) linkLocal ??= formatIpv6(addr);
      else tentative = true;
    } else if (scope === SCOPE_GLOBAL && plen === 64 && (flags & IFA_F_TEMPORARY) === 0) {
      const p = new Uint8Array(16);
      p.set(addr.subarray(0, 8));
      prefixes.set(f[0]!.slice(0, 16), p);
    }
  }
  const autoPrefixes = [...prefixes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, p]) => p);
  return { ifindex, linkLocal, tentative: linkLocal === undefined && tentative, autoPrefixes };
}

function macOf(ifname: string): Uint8Array | undefined {
  const mac = networkInterfaces()[ifname]?.[0]?.mac;
  if (mac === undefined || mac === '00:00:00:00:00:00') return undefined;
  return fromHex(mac.replace(/:/g, ''));
}

export const procLinkReader: LinkReader = {
  read(ifname) {
    const base = parseIfInet6(readText('/proc/net/if_inet6') ?? '', ifname);
    const mtu = Number(readText(`/proc/sys/net/ipv6/conf/${ifname}/mtu`)?.trim());
    const fwd = readText(`/proc/sys/net/ipv6/conf/${ifname}/forwarding`)?.trim();
    return {
      ...base,
      mtu: Number.isInteger(mtu) && mtu > 0 ? mtu : undefined,
      mac: base.ifindex === undefined ? undefined : macOf(ifname),
      forwarding: fwd === undefined ? undefined : fwd !== '0',
    };
  },
};
