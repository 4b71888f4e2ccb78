// What the agent needs to know about an interface, read from the kernel each poll (LINK_POLL_MS): whether it
// exists, its usable link-local address (RFC 4861 §6.2.2 / §4.2: RAs must come from it, so we wait while the
// address is tentative, i.e. RFC 4862 DAD is running, and stop while it is gone: the kernel removes it when
// the link goes down), its IPv6 MTU, its link-layer address (for the SLLAO), its global /64 prefixes (for
// `prefix auto`) and its own forwarding switch.
//
// The facts come from src/io/linux-host.ts (per network namespace of the reading process); this file only
// decides what they mean for an RA sender.

import { IFA_F_DADFAILED, IFA_F_TEMPORARY, IFA_F_TENTATIVE, SCOPE_GLOBAL, SCOPE_LINK, type HostFacts, type Ipv6InterfaceAddress } from '../../src/io/linux-host.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import { hex } from '../../src/wire/bytes.js';

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
  /** Every address of the interface past DAD, any scope, as text (where AdvRASrcAddress may pick from). */
  readonly addresses: readonly string[];
  /** net.ipv6.conf.IF.forwarding; undefined when unreadable. */
  readonly forwarding: boolean | undefined;
}

export interface LinkReader {
  read(ifname: string): LinkState;
}

/** What `ifname`'s IPv6 addresses (one /proc/net/if_inet6 reading) say about it. */
export function linkAddresses(addresses: readonly Ipv6InterfaceAddress[], ifname: string): Pick<LinkState, 'ifindex' | 'linkLocal' | 'tentative' | 'autoPrefixes' | 'addresses'> {
  let ifindex: number | undefined;
  let linkLocal: string | undefined;
  let tentative = false;
  const prefixes = new Map<string, Uint8Array>();
  const usableAddresses: string[] = [];
  for (const a of addresses) {
    if (a.device !== ifname) continue;
    ifindex = a.ifindex;
    const usable = (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0;
    if (usable) usableAddresses.push(formatIpv6(a.address));
    if (a.scope === SCOPE_LINK) {
      if (usable) linkLocal ??= formatIpv6(a.address);
      else tentative = true;
    } else if (a.scope === SCOPE_GLOBAL && a.prefixLength === 64 && (a.flags & IFA_F_TEMPORARY) === 0) {
      const p = new Uint8Array(16);
      p.set(a.address.subarray(0, 8));
      prefixes.set(hex(p), p);
    }
  }
  const autoPrefixes = [...prefixes.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, p]) => p);
  return { ifindex, linkLocal, tentative: linkLocal === undefined && tentative, autoPrefixes, addresses: usableAddresses };
}

/** A LinkReader over `host`'s facts. */
export function hostLinkReader(host: HostFacts): LinkReader {
  return {
    read(ifname) {
      const base = linkAddresses(host.ipv6Addresses() ?? [], ifname);
      return {
        ...base,
        mtu: host.ipv6Mtu(ifname),
        mac: base.ifindex === undefined ? undefined : host.interfaces().find((i) => i.name === ifname)?.mac,
        forwarding: host.ipv6Forwarding(ifname),
      };
    },
  };
}

