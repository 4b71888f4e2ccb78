// nftables rulesets that make a Linux router behave like each NAT type Teredo cares about
// (RFC 4380 §2.7-§2.8 terms; RFC 4787 calls them mapping and filtering behaviours):
//
//   kind                mapping (RFC 4787 §4.1)         filtering (RFC 4787 §5)
//   full-cone           endpoint-independent            endpoint-independent
//   address-restricted  endpoint-independent            address-dependent
//   port-restricted     endpoint-independent            address-and-port-dependent
//   symmetric           address-and-port-dependent      address-and-port-dependent
//
// Linux masquerade keeps the source port when it is free, so one inside port maps to one outside port whatever
// the destination (endpoint-independent mapping), and conntrack only lets replies from the exact remote
// address and port back in: that is the port-restricted NAT. `fully-random` draws a new port per conntrack
// entry: the symmetric NAT. The cone variants add a dynamic set, refreshed by every outgoing UDP packet, and a
// DNAT rule that lets unsolicited UDP in to the mapped port: keyed by port alone (full cone) or by remote
// address and port (address-restricted). Entries time out like a real NAT binding.
//
// Every kind also drops unsolicited UDP addressed to the router itself (an input chain, as a home router's
// firewall does). Without it the kernel answers such a packet with an ICMP error and keeps a conntrack entry
// for it; a later outgoing packet to the same remote endpoint then collides with that entry and masquerade
// picks another port. Two Teredo clients behind restricted NATs would never meet: each one's first bubble is
// refused by the other NAT, and the answering bubble leaves from a different mapping (RFC 4380 §5.2.6 assumes
// it leaves from the same one). With the drop, a refused packet leaves no state, like on real NATs.

// The zoo NATs (topology.ts ZOO_SITES) add their rules through nat-zoo.ts's zooRules.

import { zooRules } from './nat-zoo.js';
import type { NatKind, ZooBehaviour } from './topology.js';

/** How long a cone binding stays open after the last outgoing packet (real NATs: 30 s to a few minutes). */
export const CONE_BINDING_TIMEOUT_S = 120;

export interface NatRulesetParams {
  readonly kind: NatKind;
  /** Interface towards inet4 (or the carrier NAT) and towards the LAN. */
  readonly outsideIf: string;
  readonly insideIf: string;
  /** The client's LAN address: where unsolicited packets go on cone NATs. */
  readonly clientAddr: string;
  /** The NAT's own outside address (zoo rules that SNAT to it or match it). */
  readonly outsideAddr: string;
  readonly zoo?: ZooBehaviour;
  /** port-forward: the forwarded UDP port. */
  readonly forwardPort?: number;
}

/** The rules of one NAT, by the chain (or `sets` for set and map declarations) they go into. */
export interface NatRules {
  readonly sets: string[];
  readonly forward: string[];
  readonly prerouting: string[];
  readonly input: string[];
  /** SNAT rules before the kind's masquerade, which comes last (and catches what they leave). */
  readonly postrouting: string[];
  /** A filter chain after SNAT (priority srcnat + 10): sees every outgoing packet with its mapping. */
  readonly record: string[];
}

/** The table every lab NAT uses; one per NAT namespace. */
export const NAT_TABLE = 'tl_nat';

export function natRuleset(p: NatRulesetParams): string {
  const r: NatRules = { sets: [], forward: [], prerouting: [], input: [], postrouting: [], record: [] };
  if (p.kind === 'full-cone' || p.kind === 'address-restricted') {
    const key = p.kind === 'full-cone' ? 'udp sport' : 'ip daddr . udp sport';
    const type = p.kind === 'full-cone' ? 'inet_service' : 'ipv4_addr . inet_service';
    // Inbound, the remote endpoint is the source and the mapped (= inside, port kept) port is the destination.
    const match = p.kind === 'full-cone' ? 'udp dport' : 'ip saddr . udp dport';
    r.sets.push(`set bindings { type ${type}; flags timeout; timeout ${CONE_BINDING_TIMEOUT_S}s; }`);
    r.forward.push(`iifname "${p.insideIf}" oifname "${p.outsideIf}" update @bindings { ${key} }`);
    r.prerouting.push(`iifname "${p.outsideIf}" ${match} @bindings dnat to ${p.clientAddr}`);
  }
  r.input.push(`iifname "${p.outsideIf}" meta l4proto udp ct state new drop`);
  if (p.zoo) zooRules(p, r);
  r.postrouting.push(`oifname "${p.outsideIf}" ${p.kind === 'symmetric' ? 'masquerade fully-random' : 'masquerade'}`);
  const chain = (head: string, rules: readonly string[]): string[] => (rules.length === 0 ? [] : [`  chain ${head}; policy accept;`, ...rules.map((l) => `    ${l}`), '  }']);
  const lines = [
    `table ip ${NAT_TABLE} {`,
    ...r.sets.map((l) => `  ${l}`),
    ...chain('forward { type filter hook forward priority filter', r.forward),
    ...chain('prerouting { type nat hook prerouting priority dstnat', r.prerouting),
    ...chain('input { type filter hook input priority filter', r.input),
    ...chain('postrouting { type nat hook postrouting priority srcnat', r.postrouting),
    ...chain('record { type filter hook postrouting priority srcnat + 10', r.record),
    `}`,
  ];
  return lines.join('\n') + '\n';
}

/** What the self-tests expect of each kind: does the mapped port stay, and who may send in unsolicited. */
export interface NatExpectation {
  readonly sameMappingForEveryDestination: boolean;
  /** A packet from the contacted address but another port gets in. */
  readonly admitsOtherPortSameAddress: boolean;
  /** A packet from an address the client never contacted gets in. */
  readonly admitsOtherAddress: boolean;
}

export const NAT_EXPECTATIONS: Readonly<Record<NatKind, NatExpectation>> = {
  'full-cone': { sameMappingForEveryDestination: true, admitsOtherPortSameAddress: true, admitsOtherAddress: true },
  'address-restricted': { sameMappingForEveryDestination: true, admitsOtherPortSameAddress: true, admitsOtherAddress: false },
  'port-restricted': { sameMappingForEveryDestination: true, admitsOtherPortSameAddress: false, admitsOtherAddress: false },
  symmetric: { sameMappingForEveryDestination: false, admitsOtherPortSameAddress: false, admitsOtherAddress: false },
};
