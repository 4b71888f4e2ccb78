// Router Solicitation validity (RFC 4861 §6.1.1), checked on the received bytes without decoding them into
// objects: an RS flood must cost a few comparisons per message and allocate nothing. The kernel already
// verified the ICMPv6 checksum (it drops bad ones before raw sockets see them) and the socket's ICMP6_FILTER
// passes only RSs, but a wrong type is still checked so a misconfigured filter cannot make us answer other
// messages.

import { ICMPV6_TYPE } from '../../wire/icmpv6.js';
import { NDISC_HOP_LIMIT } from '../../wire/ndisc.js';
import { NDISC_OPTION } from '../../wire/ndisc-options.js';

/**
 * Drop reasons of the RA sender (index = code), kebab-case, each tied to the rule it enforces: the §6.1.1 RS
 * checks, the sender's own policy, then the §6.1.2 checks of other routers' RAs (consistency.ts).
 */
export const RA_DROP_REASONS = [
  'rs-not-router-solicitation', // ICMPv6 type is not 133 (the socket filter should have kept it out)
  'rs-hop-limit-not-255', // §6.1.1: "The IP Hop Limit field has a value of 255" (not forwarded by a router)
  'rs-code-not-zero', // §6.1.1: "ICMP Code is 0"
  'rs-too-short', // §6.1.1: "ICMP length (derived from the IP length) is 8 or more octets"
  'rs-option-length-zero', // §6.1.1: "All included options have a length that is greater than zero"
  'rs-option-overruns-message', // §4.6: an option's length runs past the end of the message
  'rs-sllao-from-unspecified-source', // §6.1.1: "If the IP source address is the unspecified address, there is no source link-layer address option"
  'rs-not-advertising', // §6.2.6: only an advertising interface answers (link down, not started, stopping)
  'rs-source-not-in-clients', // radvd `clients {}`: RAs only for the listed hosts
  'rs-unicast-rate-limited', // our bound on unicast answers (maxUnicastPerSec): a flood is not reflected 1:1
  'rs-unspecified-source-unicast-only', // UnicastOnly: an RS from :: cannot be answered by unicast
  // Other routers' RAs (checked for consistency, §6.2.7) that are not valid per §6.1.2:
  'ra-not-router-advertisement', // ICMPv6 type is not 134
  'ra-source-not-link-local', // §6.1.2: "IP Source Address is a link-local address"
  'ra-hop-limit-not-255', // §6.1.2: "The IP Hop Limit field has a value of 255"
  'ra-code-not-zero', // §6.1.2: "ICMP Code is 0"
  'ra-too-short', // §6.1.2: "ICMP length (derived from the IP length) is 16 or more octets"
  'ra-option-length-zero', // §6.1.2: "All included options have a length that is greater than zero"
  'ra-option-overruns-message', // §4.6
  'ra-from-self', // from one of the interface's own addresses: our own RA looped back (e.g. the answer to an RS the router itself sent)
] as const;

export type RaDropReason = (typeof RA_DROP_REASONS)[number];

/** Index of each reason, for sink.drop(DROP.x). */
export const RA_DROP = Object.fromEntries(RA_DROP_REASONS.map((r, i) => [r, i])) as { readonly [K in RaDropReason]: number };

/** The ICMPv6 RS header: type, code, checksum, 4 reserved bytes (§4.1). */
const RS_FIXED_LEN = 8;

function isUnspecified(a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== 0) return false;
  return true;
}

/**
 * Checks the ICMPv6 message `data[offset .. offset + length)` received from `source` (16 bytes) with IPv6 hop
 * limit `hopLimit` against §6.1.1. Returns -1 when it is a valid RS, else the index of the drop reason.
 * Options are walked but not interpreted: §6.2.6 allows a router to use the SLLAO to skip address resolution;
 * the kernel resolves the solicitor's address itself, so we do not need it.
 */
export function checkRouterSolicit(data: Uint8Array, offset: number, length: number, source: Uint8Array, hopLimit: number): number {
  if (length < 1 || data[offset] !== ICMPV6_TYPE.ROUTER_SOLICIT) return RA_DROP['rs-not-router-solicitation'];
  // -1 = the socket could not tell (no IPV6_HOPLIMIT); such a message cannot be shown to be on-link.
  if (hopLimit !== NDISC_HOP_LIMIT) return RA_DROP['rs-hop-limit-not-255'];
  if (length < 2 || data[offset + 1] !== 0) return RA_DROP['rs-code-not-zero'];
  if (length < RS_FIXED_LEN) return RA_DROP['rs-too-short'];
  const unspecified = isUnspecified(source);
  const end = offset + length;
  for (let at = offset + RS_FIXED_LEN; at < end; ) {
    if (at + 2 > end) return RA_DROP['rs-option-overruns-message'];
    const units = data[at + 1]!;
    if (units === 0) return RA_DROP['rs-option-length-zero'];
    if (at + units * 8 > end) return RA_DROP['rs-option-overruns-message'];
    if (unspecified && data[at] === NDISC_OPTION.SOURCE_LL_ADDR) return RA_DROP['rs-sllao-from-unspecified-source'];
    at += units * 8;
  }
  return -1;
}
