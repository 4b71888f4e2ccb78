// Router Advertisements from other routers on the link (RFC 4861 §6.2.7): "Routers SHOULD inspect valid Router
// Advertisements sent by other routers and verify that the routers are advertising consistent information on
// a link. Detected inconsistencies indicate that one or more routers might be misconfigured and SHOULD be
// logged". Validity is §6.1.2; the comparison is the §6.2.7 list: Cur Hop Limit, M and O flags, Reachable
// Time and Retrans Timer (when both are specified), the MTU option (when both send one), and the valid and
// preferred lifetimes of a prefix both advertise. Read from the bytes, allocation-free like the RS checks: a
// stream of RAs costs no more than a stream of RSs.

import { ICMPV6_TYPE } from '../../wire/icmpv6.js';
import { NDISC_HOP_LIMIT } from '../../wire/ndisc.js';
import { NDISC_OPTION, u32 } from '../../wire/ndisc-options.js';
import type { RaContent } from './content.js';
import { RA_DROP } from './solicit.js';

/** What §6.2.7 says to compare, as reported to the sink (index = code). */
export const RA_INCONSISTENCIES = [
  'cur-hop-limit',
  'managed-flag',
  'other-config-flag',
  'reachable-time',
  'retrans-timer',
  'mtu',
  'prefix-valid-lifetime',
  'prefix-preferred-lifetime',
] as const;

const I = Object.fromEntries(RA_INCONSISTENCIES.map((r, i) => [r, i])) as { readonly [K in (typeof RA_INCONSISTENCIES)[number]]: number };

/** The RA header: type, code, checksum, then 12 bytes (§4.2). */
const RA_FIXED_LEN = 16;
const PIO_LEN = 32;

/**
 * §6.1.2 validity of the RA at `data[offset .. offset + length)` from `source`: -1 when valid, else the index
 * of the drop reason (RA_DROP_REASONS).
 */
export function checkRouterAdvert(data: Uint8Array, offset: number, length: number, source: Uint8Array, hopLimit: number): number {
  if (length < 1 || data[offset] !== ICMPV6_TYPE.ROUTER_ADVERT) return RA_DROP['ra-not-router-advertisement'];
  // §6.1.2: "IP Source Address is a link-local address. Routers must use their link-local address as the source".
  if (!(source[0] === 0xfe && (source[1]! & 0xc0) === 0x80)) return RA_DROP['ra-source-not-link-local'];
  if (hopLimit !== NDISC_HOP_LIMIT) return RA_DROP['ra-hop-limit-not-255'];
  if (length < 2 || data[offset + 1] !== 0) return RA_DROP['ra-code-not-zero'];
  if (length < RA_FIXED_LEN) return RA_DROP['ra-too-short'];
  const end = offset + length;
  for (let at = offset + RA_FIXED_LEN; at < end; ) {
    if (at + 2 > end) return RA_DROP['ra-option-overruns-message'];
    const units = data[at + 1]!;
    if (units === 0) return RA_DROP['ra-option-length-zero'];
    if (at + units * 8 > end) return RA_DROP['ra-option-overruns-message'];
    at += units * 8;
  }
  return -1;
}

function samePrefix(data: Uint8Array, at: number, prefix: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (data[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * Compares a valid RA (checkRouterAdvert returned -1) with what we advertise (`ours`) and calls `report` with
 * the index (RA_INCONSISTENCIES) of each difference §6.2.7 names.
 */
export function findInconsistencies(data: Uint8Array, offset: number, length: number, ours: RaContent, report: (inconsistency: number) => void): void {
  const hop = data[offset + 4]!;
  const flags = data[offset + 5]!;
  if (hop !== 0 && ours.curHopLimit !== 0 && hop !== ours.curHopLimit) report(I['cur-hop-limit']);
  if ((flags & 0x80) !== 0 !== ours.managed) report(I['managed-flag']);
  if ((flags & 0x40) !== 0 !== ours.otherConfig) report(I['other-config-flag']);
  const reachable = u32(data, offset + 8);
  if (reachable !== 0 && ours.reachableTimeMs !== 0 && reachable !== ours.reachableTimeMs) report(I['reachable-time']);
  const retrans = u32(data, offset + 12);
  if (retrans !== 0 && ours.retransTimerMs !== 0 && retrans !== ours.retransTimerMs) report(I['retrans-timer']);
  const end = offset + length;
  for (let at = offset + RA_FIXED_LEN; at < end; at += data[at + 1]! * 8) {
    const type = data[at]!;
    const len = data[at + 1]! * 8;
    if (type === NDISC_OPTION.MTU && len === 8) {
      if (ours.mtu !== 0 && u32(data, at + 4) !== ours.mtu) report(I.mtu);
    } else if (type === NDISC_OPTION.PREFIX_INFO && len === PIO_LEN) {
      const plen = data[at + 2]!;
      for (let k = 0; k < ours.prefixes.length; k++) {
        const p = ours.prefixes[k]!;
        if (p.prefixLength !== plen || !samePrefix(data, at + 16, p.prefix)) continue;
        if (u32(data, at + 4) !== p.validLifetimeSec) report(I['prefix-valid-lifetime']);
        if (u32(data, at + 8) !== p.preferredLifetimeSec) report(I['prefix-preferred-lifetime']);
      }
    }
  }
}
