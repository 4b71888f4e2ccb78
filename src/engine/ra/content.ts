// What a Router Advertisement says (RFC 4861 §4.2, §6.2.1 router variables) and how it becomes bytes: the
// message header, then Source Link-Layer Address (§4.6.1), MTU (§4.6.4), Prefix Information (§4.6.2), Route
// Information (RFC 4191 §2.3), RDNSS and DNSSL (RFC 8106 §5.1, §5.2), all through src/wire/ndisc.ts; and the
// options other RA daemons send (src/wire/ndisc-options-ra.ts): Mobile IPv6's Advertisement Interval and Home
// Agent Information (RFC 6275 §7.3, §7.4), 6LoWPAN 6CO and ABRO (RFC 6775), captive portal (RFC 8910), PREF64
// (RFC 8781) and DNR (RFC 9463).
//
// §6.2.3: "If including all options causes the size of an advertisement to exceed the link MTU, multiple
// advertisements can be sent, each containing a subset of the options." Every RA we build repeats the header,
// the SLLAO and the MTU option (small, and what hosts need from every RA), and the other options are packed
// in configuration order into as few RAs as fit. An RA is never fragmented (RFC 6980 §5: hosts drop fragmented
// ND): a single option that cannot fit is a configuration error (raFitProblem), radvd instead fragments it.
//
// Building allocates (the sender caches the result and rebuilds only when the content or a counting-down
// lifetime changes), so nothing here runs per Router Solicitation.

import { ICMPV6_HEADER_LEN, ICMPV6_TYPE } from '../../wire/icmpv6.js';
import { IPV6_HEADER_LEN } from '../../wire/ipv6.js';
import { writeNdisc, type RouterAdvert } from '../../wire/ndisc.js';
import { ndiscOptionEncodedLength, ndiscOptionsEncodedLength, type NdiscOption, type RoutePreference } from '../../wire/ndisc-options.js';
import { pref64ScaledLifetime } from '../../wire/ndisc-options-ra.js';

/** RFC 4861 §4.6.2 Prefix Information, as configured (lifetimes in seconds, 0xffffffff = infinity). */
export interface RaPrefix {
  readonly prefix: Uint8Array; // 16 bytes, host bits zero
  readonly prefixLength: number;
  readonly onLink: boolean; // L
  readonly autonomous: boolean; // A (RFC 4862 §5.5.3: SLAAC only for a prefix that leaves 64 interface-ID bits)
  readonly routerAddress: boolean; // R (RFC 6275 §7.2)
  readonly validLifetimeSec: number;
  readonly preferredLifetimeSec: number;
  /** radvd's DeprecatePrefix: the final RAs carry it with preferred lifetime 0 (and valid at most 2 hours). */
  readonly deprecateOnExit?: boolean;
  /**
   * radvd's DecrementLifetimes: the advertised lifetimes count down in real time from the configured ones (set at
   * start or reload); once the preferred lifetime reaches 0 the prefix is no longer advertised (radvd's send.c).
   */
  readonly decrementLifetimes?: boolean;
}

/** RFC 4861 §4.6.2: all ones = infinity, never decremented. */
const INFINITY_SEC = 0xffffffff;

/** True when some prefix of `prefixes` counts down (its RAs then change every second). */
export function decrementsLifetimes(prefixes: readonly RaPrefix[]): boolean {
  return prefixes.some((p) => p.decrementLifetimes === true);
}

/** `prefixes` as advertised `elapsedSec` seconds after their countdown began (see RaPrefix.decrementLifetimes). */
export function decrementedPrefixes(prefixes: readonly RaPrefix[], elapsedSec: number): RaPrefix[] {
  const out: RaPrefix[] = [];
  const less = (v: number): number => (v === INFINITY_SEC ? v : Math.max(0, v - elapsedSec));
  for (const p of prefixes) {
    if (p.decrementLifetimes !== true) out.push(p);
    else if (less(p.preferredLifetimeSec) > 0) out.push({ ...p, validLifetimeSec: less(p.validLifetimeSec), preferredLifetimeSec: less(p.preferredLifetimeSec) });
  }
  return out;
}

/** RFC 4862 §5.5.3 (e): a host keeps 2 hours of an address's valid lifetime whatever a shorter value says. */
const TWO_HOURS_SEC = 7200;

/** RFC 4191 §2.3 Route Information (e.g. 2001::/32 via this router for a Teredo relay). */
export interface RaRoute {
  readonly prefix: Uint8Array; // 16 bytes, host bits zero
  readonly prefixLength: number;
  readonly preference: RoutePreference;
  readonly lifetimeSec: number;
  /** radvd RemoveRoute (default true): the final RAs carry it with lifetime 0. */
  readonly removeOnExit?: boolean;
}

/** RFC 8106 §5.1 Recursive DNS Server option. */
export interface RaRdnss {
  readonly servers: readonly Uint8Array[]; // 16 bytes each, at least one
  readonly lifetimeSec: number;
  /** radvd FlushRDNSS (default true): the final RAs carry it with lifetime 0. */
  readonly flushOnExit?: boolean;
}

/** RFC 8106 §5.2 DNS Search List option. */
export interface RaDnssl {
  readonly domains: readonly string[];
  readonly lifetimeSec: number;
  /** radvd FlushDNSSL (default true): the final RAs carry it with lifetime 0. */
  readonly flushOnExit?: boolean;
}

/** RFC 6275 §7.4 Home Agent Information (with RFC 3963's mobile router support bit). */
export interface RaHomeAgentInfo {
  readonly preference: number; // -32768..32767
  readonly lifetimeSec: number; // 1..65535
  readonly mobileRouterSupport: boolean;
}

/** RFC 8781 PREF64: a NAT64 prefix of 32, 40, 48, 56, 64 or 96 bits. */
export interface RaPref64 {
  readonly prefix: Uint8Array; // 16 bytes, bits past prefixLength zero
  readonly prefixLength: number;
  readonly lifetimeSec: number; // sent in 8-second units, rounded up, at most 65528
}

/** RFC 9463 §6.1 DNR: an encrypted DNS resolver; no addresses = ADN-only. */
export interface RaDnr {
  readonly priority: number;
  readonly lifetimeSec: number;
  readonly adn: string;
  readonly addresses: readonly Uint8Array[];
  readonly svcParams: Uint8Array; // RFC 9460 wire form (svcParamsBytes)
}

/** RFC 6775 §4.2 6LoWPAN context (6CO). */
export interface RaLowpanContext {
  readonly contextLength: number;
  readonly compression: boolean;
  readonly contextId: number; // 0..15
  readonly validLifetimeMin: number; // units of 60 s
  readonly prefix: Uint8Array; // 8 or 16 bytes
}

/** RFC 6775 §4.3 Authoritative Border Router option. */
export interface RaAbro {
  readonly versionLow: number;
  readonly versionHigh: number;
  readonly validLifetimeMin: number; // units of 60 s
  readonly address: Uint8Array; // 16 bytes
}

/** The router variables of RFC 4861 §6.2.1 that go on the wire, for one interface. */
export interface RaContent {
  readonly curHopLimit: number; // AdvCurHopLimit, 0 = unspecified
  readonly managed: boolean; // AdvManagedFlag (M)
  readonly otherConfig: boolean; // AdvOtherConfigFlag (O)
  readonly preference: RoutePreference; // RFC 4191 §2.2 Default Router Preference
  readonly routerLifetimeSec: number; // AdvDefaultLifetime, 0 = not a default router
  readonly reachableTimeMs: number; // AdvReachableTime, 0 = unspecified
  readonly retransTimerMs: number; // AdvRetransTimer, 0 = unspecified
  /** The interface's link-layer address for the SLLAO; undefined omits the option (§4.6.1 MAY). */
  readonly sourceLinkLayerAddress: Uint8Array | undefined;
  readonly mtu: number; // AdvLinkMTU, 0 = no MTU option
  readonly prefixes: readonly RaPrefix[];
  readonly routes: readonly RaRoute[];
  readonly rdnss: readonly RaRdnss[];
  readonly dnssl: readonly RaDnssl[];
  // Options beyond RFC 4861 (all optional: absent = not sent).
  /** RFC 6275 §7.1 H flag (radvd AdvHomeAgentFlag). */
  readonly homeAgent?: boolean;
  /** RFC 6275 §7.3 Advertisement Interval in ms (radvd AdvIntervalOpt); undefined = no option. */
  readonly advIntervalMs?: number;
  readonly homeAgentInfo?: RaHomeAgentInfo;
  readonly lowpanContexts?: readonly RaLowpanContext[];
  readonly abros?: readonly RaAbro[];
  readonly pref64?: readonly RaPref64[];
  /** RFC 8910 captive portal API URI. */
  readonly captivePortal?: string;
  readonly dnr?: readonly RaDnr[];
}

/** Bytes of the RA fixed part: ICMPv6 type, code, checksum, then the 12-byte RA body (§4.2). */
export const RA_FIXED_LEN = ICMPV6_HEADER_LEN + 12;

/** The largest ICMPv6 message that fits a link MTU without fragmentation (no extension headers). */
export function maxRaLength(linkMtu: number): number {
  return linkMtu - IPV6_HEADER_LEN;
}

/** RFC 4191 §2.3: a Route Information prefix takes 0, 8 or 16 bytes, the least that holds prefixLength bits. */
function routePrefixBytes(r: RaRoute): Uint8Array {
  return r.prefix.subarray(0, r.prefixLength === 0 ? 0 : r.prefixLength <= 64 ? 8 : 16);
}

/**
 * The options of `content` in wire order, split into the per-RA head (SLLAO, MTU) and the rest. `final` gives
 * the lifetimes of a final RA (§6.2.5): routes, RDNSS and DNSSL at 0 so hosts drop what came from this router
 * (radvd's RemoveRoute / FlushRDNSS / FlushDNSSL defaults); prefixes keep theirs (on-link state and addresses
 * stay valid: the link has not changed, only this router is leaving), except those marked deprecateOnExit,
 * which go out with preferred lifetime 0 so hosts stop using them for new connections (radvd DeprecatePrefix).
 */
function optionsOf(content: RaContent, final: boolean): { head: NdiscOption[]; rest: NdiscOption[] } {
  const head: NdiscOption[] = [];
  if (content.sourceLinkLayerAddress !== undefined) head.push({ kind: 'source-ll-addr', linkLayerAddress: content.sourceLinkLayerAddress });
  if (content.mtu !== 0) head.push({ kind: 'mtu', mtu: content.mtu });
  // RFC 6275 §7.3/§7.4: what a mobile node needs from every RA, so repeated in each part like the MTU.
  if (content.advIntervalMs !== undefined) head.push({ kind: 'adv-interval', intervalMs: content.advIntervalMs });
  if (content.homeAgentInfo !== undefined) head.push({ kind: 'home-agent-info', ...content.homeAgentInfo });
  const rest: NdiscOption[] = [];
  for (const p of content.prefixes) {
    const deprecate = final && p.deprecateOnExit === true;
    const validLifetimeSec = deprecate ? Math.min(p.validLifetimeSec, TWO_HOURS_SEC) : p.validLifetimeSec;
    const preferredLifetimeSec = deprecate ? 0 : p.preferredLifetimeSec;
    rest.push({ kind: 'prefix-info', prefix: p.prefix, prefixLength: p.prefixLength, onLink: p.onLink, autonomous: p.autonomous, routerAddress: p.routerAddress, validLifetimeSec, preferredLifetimeSec });
  }
  for (const r of content.routes) {
    rest.push({ kind: 'route-info', prefix: routePrefixBytes(r), prefixLength: r.prefixLength, preference: r.preference, routeLifetimeSec: final && r.removeOnExit !== false ? 0 : r.lifetimeSec });
  }
  for (const d of content.rdnss) rest.push({ kind: 'rdnss', servers: [...d.servers], lifetimeSec: final && d.flushOnExit !== false ? 0 : d.lifetimeSec });
  for (const d of content.dnssl) rest.push({ kind: 'dnssl', domains: [...d.domains], lifetimeSec: final && d.flushOnExit !== false ? 0 : d.lifetimeSec });
  rest.push(...moreOptionsOf(content, final));
  return { head, rest };
}

/**
 * The options after RFC 8106's, in this order: 6CO and ABRO (RFC 6775), PREF64, DNR, captive portal. Final RAs
 * send PREF64 and DNR with lifetime 0 (hosts stop using this router's NAT64 and resolvers, as for RDNSS).
 */
function moreOptionsOf(content: RaContent, final: boolean): NdiscOption[] {
  const out: NdiscOption[] = [];
  for (const c of content.lowpanContexts ?? []) out.push({ kind: '6lowpan-context', ...c });
  for (const a of content.abros ?? []) out.push({ kind: 'abro', ...a });
  for (const p of content.pref64 ?? []) out.push({ kind: 'pref64', prefixLength: p.prefixLength, prefix: p.prefix.subarray(0, 12), scaledLifetime: final ? 0 : pref64ScaledLifetime(p.lifetimeSec) });
  for (const d of content.dnr ?? []) out.push({ kind: 'dnr', priority: d.priority, lifetimeSec: final ? 0 : d.lifetimeSec, adn: d.adn, addresses: [...d.addresses], svcParams: d.svcParams });
  if (content.captivePortal !== undefined) out.push({ kind: 'captive-portal', uri: content.captivePortal });
  return out;
}

function header(content: RaContent, final: boolean, options: NdiscOption[]): RouterAdvert {
  return {
    kind: 'router-advert',
    curHopLimit: content.curHopLimit,
    managed: content.managed,
    otherConfig: content.otherConfig,
    homeAgent: content.homeAgent === true,
    preference: content.preference,
    // §6.2.5: a final RA says "not a default router any more".
    routerLifetimeSec: final ? 0 : content.routerLifetimeSec,
    reachableTimeMs: content.reachableTimeMs,
    retransTimerMs: content.retransTimerMs,
    options,
  };
}

function encodeRa(ra: RouterAdvert): Uint8Array {
  const out = new Uint8Array(ICMPV6_HEADER_LEN + 12 + ndiscOptionsEncodedLength(ra.options));
  // Checksum left zero: the raw socket computes it (IPV6_CHECKSUM offset 2, src/io/icmpv6-socket.ts).
  out[0] = ICMPV6_TYPE.ROUTER_ADVERT;
  writeNdisc(ra, out, ICMPV6_HEADER_LEN);
  return out;
}

/**
 * Why `content` cannot be sent on a link with `linkMtu` without fragmenting, or undefined when it can: an
 * option that does not fit in an RA beside the header, SLLAO and MTU option. Also reports options the codec
 * refuses (e.g. an RDNSS block of more than 127 servers, a DNSSL option over 2040 bytes).
 */
export function raFitProblem(content: RaContent, linkMtu: number): string | undefined {
  let parts: { head: NdiscOption[]; rest: NdiscOption[] };
  let headLen: number;
  try {
    parts = optionsOf(content, false);
    headLen = RA_FIXED_LEN + ndiscOptionsEncodedLength(parts.head);
  } catch (e) {
    return (e as Error).message;
  }
  const max = maxRaLength(linkMtu);
  for (const o of parts.rest) {
    let len: number;
    try {
      len = ndiscOptionEncodedLength(o);
    } catch (e) {
      return (e as Error).message;
    }
    if (headLen + len > max) return `a ${o.kind} option of ${len} bytes does not fit in one RA on a link with MTU ${linkMtu} (${max - headLen} bytes left after the header)`;
  }
  return undefined;
}

/**
 * The Router Advertisements (ICMPv6 messages, type first, checksum zero) that carry `content` on a link with
 * `linkMtu`: one when everything fits, else several, each with the header, SLLAO and MTU option and a share of
 * the other options (§6.2.3). `final` builds the §6.2.5 final RAs (router lifetime 0). Throws RangeError when
 * raFitProblem would report a problem (validate the configuration first).
 */
export function buildRaMessages(content: RaContent, linkMtu: number, final = false): Uint8Array[] {
  const problem = raFitProblem(content, linkMtu);
  if (problem !== undefined) throw new RangeError(problem);
  const { head, rest } = optionsOf(content, final);
  const max = maxRaLength(linkMtu);
  const headLen = RA_FIXED_LEN + ndiscOptionsEncodedLength(head);
  const messages: Uint8Array[] = [];
  let options = [...head];
  let len = headLen;
  for (const o of rest) {
    const n = ndiscOptionEncodedLength(o);
    if (len + n > max) {
      messages.push(encodeRa(header(content, final, options)));
      options = [...head];
      len = headLen;
    }
    options.push(o);
    len += n;
  }
  messages.push(encodeRa(header(content, final, options)));
  return messages;
}
