// What ra-sender advertises on one interface, in the user's units (seconds, text addresses): the common form
// of the three config sources (flags, the JSON file, a radvd.conf). Checked here with messages naming the
// field (RFC 4861 §6.2.1 ranges with RFC 8319's larger limits), and turned into the engine's wire-level
// config once the interface's own facts (link-layer address, MTU, addresses for `auto`) are known.

import { Address6 } from 'ip-address';
import type { RaContent, RaPrefix } from '../../src/engine/ra/content.js';
import { raFitProblem } from '../../src/engine/ra/content.js';
import type { RaSenderConfig } from '../../src/engine/ra/sender.js';
import { INFINITE_LIFETIME, ROUTE_PREFERENCE, ndiscOptionEncodedLength, type RoutePreference } from '../../src/wire/ndisc-options.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { autoExcluded, checkMore, isMobileIpv6, moreContent, raMtu, type MoreSettings } from './options.js';
import { hostLifetimeWarnings } from './lifetimes.js';

export type Preference = 'low' | 'medium' | 'high';
export const PREFERENCES: readonly Preference[] = ['low', 'medium', 'high'];

/** `auto`: the interface's own global /64 prefixes, like radvd's `prefix ::/64`. */
export const AUTO_PREFIX = 'auto';

export interface PrefixSettings {
  readonly prefix: string; // "P/LEN" or "auto"
  readonly onLink: boolean;
  readonly autonomous: boolean;
  readonly routerAddress: boolean;
  /** radvd DeprecatePrefix: the final RAs deprecate it. */
  readonly deprecateOnExit?: boolean;
  /** radvd DecrementLifetimes: the advertised lifetimes count down from start or reload (engine content.ts). */
  readonly decrementLifetimes?: boolean;
  readonly validLifetimeSec: number;
  readonly preferredLifetimeSec: number;
}

export interface RouteSettings {
  readonly prefix: string;
  readonly preference: Preference;
  readonly lifetimeSec: number;
  /** radvd RemoveRoute (default true): lifetime 0 in the final RAs. */
  readonly removeOnExit?: boolean;
}

export interface RdnssSettings {
  readonly servers: readonly string[];
  readonly lifetimeSec: number;
  /** radvd FlushRDNSS (default true): lifetime 0 in the final RAs. */
  readonly flushOnExit?: boolean;
}

export interface DnsslSettings {
  readonly domains: readonly string[];
  readonly lifetimeSec: number;
  /** radvd FlushDNSSL (default true): lifetime 0 in the final RAs. */
  readonly flushOnExit?: boolean;
}

export interface RaInterfaceSettings {
  readonly name: string;
  readonly minIntervalSec: number;
  readonly maxIntervalSec: number;
  readonly minDelayBetweenRasSec: number;
  readonly managed: boolean;
  readonly otherConfig: boolean;
  readonly routerLifetimeSec: number;
  readonly routerPreference: Preference;
  readonly curHopLimit: number;
  readonly reachableTimeMs: number;
  readonly retransTimerMs: number;
  /** AdvLinkMTU; 0 = no MTU option. */
  readonly mtu: number;
  readonly sourceLinkLayerAddress: boolean;
  readonly unicastSolicited: boolean;
  readonly unicastOnly: boolean;
  readonly clients: readonly string[];
  readonly finalAdvertisements: number;
  readonly maxUnicastPerSec: number;
  readonly prefixes: readonly PrefixSettings[];
  readonly routes: readonly RouteSettings[];
  readonly rdnss: readonly RdnssSettings[];
  readonly dnssl: readonly DnsslSettings[];
  // Options beyond RFC 4861 and radvd's rarer directives (options.ts checks them and builds their content).
  readonly more?: MoreSettings;
}

/**
 * radvd's prefix lifetime defaults (radvd defaults.h: AdvValidLifetime, AdvPreferredLifetime), so that one
 * radvd.conf gives hosts the same state from both.
 */
export const DEFAULT_VALID_LIFETIME_SEC = 86_400;
export const DEFAULT_PREFERRED_LIFETIME_SEC = 14_400;
/** RFC 8319 §4: MaxRtrAdvInterval and AdvDefaultLifetime up to 65535 s. */
export const MAX_RTR_ADV_INTERVAL_LIMIT = 65_535;
/** RFC 4861 §6.2.1: AdvReachableTime "MUST be no greater than 3,600,000 milliseconds". */
export const MAX_REACHABLE_TIME_MS = 3_600_000;
export const MIN_LINK_MTU = 1280;

export const PREFERENCE_BITS: Readonly<Record<Preference, RoutePreference>> = { low: ROUTE_PREFERENCE.LOW, medium: ROUTE_PREFERENCE.MEDIUM, high: ROUTE_PREFERENCE.HIGH };

export interface Findings {
  /** Refused: the configuration does not load. */
  errors: string[];
  /** Loaded, but probably not what was meant (logged at start and shown by status). */
  warnings: string[];
}

/**
 * Parses "P/LEN"; a message naming the problem (host bits with the corrected prefix) or the bytes. With
 * `routerAddress` (RFC 6275 §7.2 R flag) the prefix field carries the router's whole address: host bits stay.
 */
export function parsePrefix(text: string, routerAddress = false): { prefix: Uint8Array; length: number } | string {
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(text);
  if (!m || Number(m[2]) > 128) return 'must be an IPv6 prefix like 2001:db8::/64';
  let prefix: Uint8Array;
  try {
    prefix = parseIpv6(m[1]!);
  } catch {
    return 'must be an IPv6 prefix like 2001:db8::/64';
  }
  const start = new Address6(text).startAddress().correctForm();
  if (!routerAddress && start !== new Address6(m[1]!).correctForm()) return `has host bits set (did you mean ${start}/${m[2]}?)`;
  return { prefix, length: Number(m[2]) };
}

const u32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= INFINITE_LIFETIME;

/** Every problem of one interface's settings, each naming the interface and the field. */
export function checkSettings(s: RaInterfaceSettings): Findings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const at = `interface ${s.name}:`;
  const err = (m: string): void => void errors.push(`${at} ${m}`);
  const warn = (m: string): void => void warnings.push(`${at} ${m}`);

  // RFC 6275 §7.5: a Mobile IPv6 router (home agent, Advertisement Interval option, R flag) may advertise faster.
  const mip = isMobileIpv6(s);
  const [minMin, minMax, rfc] = mip ? [0.03, 0.07, 'RFC 6275 §7.5'] : [3, 4, 'RFC 4861 §6.2.1'];
  if (!(s.maxIntervalSec >= minMax && s.maxIntervalSec <= MAX_RTR_ADV_INTERVAL_LIMIT)) err(`max interval (${s.maxIntervalSec}) must be ${minMax}..${MAX_RTR_ADV_INTERVAL_LIMIT} s (${rfc}, RFC 8319)`);
  if (!(s.minIntervalSec >= minMin && s.minIntervalSec <= 0.75 * s.maxIntervalSec)) err(`min interval (${s.minIntervalSec}) must be ${minMin}..0.75 x max interval (${0.75 * s.maxIntervalSec}) s (${rfc})`);
  if (!(s.minDelayBetweenRasSec >= 0.03)) err(`min delay between RAs (${s.minDelayBetweenRasSec}) must be at least 0.03 s (RFC 6275 §7.5)`);
  // radvd accepts it too: the periodic RAs keep their Min..Max schedule, only solicited multicast RAs wait longer.
  else if (s.minDelayBetweenRasSec > s.minIntervalSec) warn(`min delay between RAs (${s.minDelayBetweenRasSec} s) is above the min interval (${s.minIntervalSec} s): periodic RAs still follow min..max interval, as radvd's do; RAs answering solicitations by multicast wait ${s.minDelayBetweenRasSec} s after the previous one`);
  if (!(s.routerLifetimeSec === 0 || (s.routerLifetimeSec >= s.maxIntervalSec && s.routerLifetimeSec <= MAX_RTR_ADV_INTERVAL_LIMIT && Number.isInteger(s.routerLifetimeSec)))) {
    err(`router lifetime (${s.routerLifetimeSec}) must be 0 or max interval (${s.maxIntervalSec})..${MAX_RTR_ADV_INTERVAL_LIMIT} s (RFC 4861 §6.2.1, RFC 8319)`);
  }
  if (!(Number.isInteger(s.curHopLimit) && s.curHopLimit >= 0 && s.curHopLimit <= 255)) err(`cur hop limit (${s.curHopLimit}) must be 0..255`);
  if (!(Number.isInteger(s.reachableTimeMs) && s.reachableTimeMs >= 0 && s.reachableTimeMs <= MAX_REACHABLE_TIME_MS)) err(`reachable time (${s.reachableTimeMs}) must be 0..${MAX_REACHABLE_TIME_MS} ms (RFC 4861 §6.2.1)`);
  if (!u32(s.retransTimerMs)) err(`retrans timer (${s.retransTimerMs}) must be 0..${INFINITE_LIFETIME} ms`);
  if (!(s.mtu === 0 || (Number.isInteger(s.mtu) && s.mtu >= MIN_LINK_MTU && s.mtu <= INFINITE_LIFETIME))) err(`mtu (${s.mtu}) must be 0 (no MTU option) or at least ${MIN_LINK_MTU} (RFC 8200 §5)`);
  if (!(Number.isInteger(s.finalAdvertisements) && s.finalAdvertisements >= 0 && s.finalAdvertisements <= 3)) err(`final advertisements (${s.finalAdvertisements}) must be 0..3 (MAX_FINAL_RTR_ADVERTISEMENTS, RFC 4861 §10)`);
  if (!(s.maxUnicastPerSec >= 1)) err(`max unicast rate (${s.maxUnicastPerSec}) must be at least 1 per second`);
  for (const c of s.clients) if (!isIpv6(c)) err(`client ${JSON.stringify(c)} must be an IPv6 address`);
  if (s.unicastOnly && s.clients.length === 0 && s.finalAdvertisements > 0) warn('UnicastOnly without clients: no unsolicited or final RAs can be sent, only answers to Router Solicitations');

  let auto = 0;
  for (const p of s.prefixes) {
    const where = `prefix ${p.prefix}`;
    if (!u32(p.validLifetimeSec)) err(`${where}: valid lifetime (${p.validLifetimeSec}) must be 0..${INFINITE_LIFETIME} (infinity)`);
    if (!u32(p.preferredLifetimeSec)) err(`${where}: preferred lifetime (${p.preferredLifetimeSec}) must be 0..${INFINITE_LIFETIME} (infinity)`);
    if (p.preferredLifetimeSec > p.validLifetimeSec) err(`${where}: preferred lifetime (${p.preferredLifetimeSec}) must not exceed valid lifetime (${p.validLifetimeSec}) (RFC 4861 §4.6.2: hosts ignore such a prefix)`);
    if (p.prefix === AUTO_PREFIX) {
      auto++;
      continue;
    }
    const parsed = parsePrefix(p.prefix, p.routerAddress);
    if (typeof parsed === 'string') {
      err(`${where} ${parsed}`);
      continue;
    }
    if (p.autonomous && parsed.length !== 64) {
      warn(`${where}: an autonomous prefix that is not a /64: hosts will NOT form SLAAC addresses from it (RFC 4862 §5.5.3 with RFC 4291's 64-bit interface IDs); advertise the /64 of this link (e.g. ${p.prefix.replace(/\/\d+$/, '')}/64 with the subnet ID filled in)`);
    }
    if (parsed.prefix[0] === 0xfe && (parsed.prefix[1]! & 0xc0) === 0x80) err(`${where}: the link-local prefix must not be advertised (RFC 4861 §6.2.1)`);
  }
  if (auto > 1) err(`prefix auto may be given once`);

  for (const r of s.routes) {
    const where = `route ${r.prefix}`;
    const parsed = parsePrefix(r.prefix);
    if (typeof parsed === 'string') err(`${where} ${parsed}`);
    if (!u32(r.lifetimeSec)) err(`${where}: lifetime (${r.lifetimeSec}) must be 0..${INFINITE_LIFETIME}`);
    if (typeof parsed !== 'string' && parsed.length === 0 && r.lifetimeSec === 0 && s.routerLifetimeSec > 0) {
      warn(`${where}: route lifetime 0 for ::/0 beside router lifetime ${s.routerLifetimeSec}: hosts that read Route Information (RFC 4191 §3.1) remove the default route the router lifetime gives them`);
    }
  }
  for (const d of s.rdnss) {
    const where = `rdnss ${d.servers.join(' ')}`;
    if (d.servers.length === 0) err('rdnss needs at least one server address');
    for (const a of d.servers) if (!isIpv6(a)) err(`${where}: ${JSON.stringify(a)} must be an IPv6 address`);
    if (!u32(d.lifetimeSec)) err(`${where}: lifetime (${d.lifetimeSec}) must be 0..${INFINITE_LIFETIME}`);
    else if (d.lifetimeSec !== 0 && d.lifetimeSec < s.maxIntervalSec) warn(`${where}: lifetime ${d.lifetimeSec} s is shorter than max interval ${s.maxIntervalSec} s: hosts may lose the server between RAs (RFC 8106 §5.1 suggests at least 3 x MaxRtrAdvInterval)`);
  }
  for (const d of s.dnssl) {
    const where = `dnssl ${d.domains.join(' ')}`;
    if (d.domains.length === 0) err('dnssl needs at least one domain');
    try {
      ndiscOptionEncodedLength({ kind: 'dnssl', domains: [...d.domains], lifetimeSec: 0 });
    } catch (e) {
      err(`${where}: ${(e as Error).message}`);
    }
    if (!u32(d.lifetimeSec)) err(`${where}: lifetime (${d.lifetimeSec}) must be 0..${INFINITE_LIFETIME}`);
    else if (d.lifetimeSec !== 0 && d.lifetimeSec < s.maxIntervalSec) warn(`${where}: lifetime ${d.lifetimeSec} s is shorter than max interval ${s.maxIntervalSec} s (RFC 8106 §5.2 suggests at least 3 x MaxRtrAdvInterval)`);
  }
  checkMore(s, err, warn);
  warnings.push(...hostLifetimeWarnings(s).map((w) => `${at} ${w}`));
  if (errors.length === 0) {
    // The content must fit an RA on the smallest link it could be sent on (the link's own MTU is checked at start).
    const problem = raFitProblem(toContent(s, { mac: new Uint8Array(6), autoPrefixes: [] }), Math.max(MIN_LINK_MTU, s.mtu));
    if (problem !== undefined) err(problem);
  }
  return { errors, warnings };
}

export function isIpv6(text: string): boolean {
  try {
    parseIpv6(text);
    return true;
  } catch {
    return false;
  }
}

/** What the interface itself contributes to the RA. */
export interface LinkFacts {
  /** Link-layer address for the SLLAO; undefined when the link has none (tun, sit). */
  readonly mac: Uint8Array | undefined;
  /** The interface's global /64 prefixes, for `prefix auto`. */
  readonly autoPrefixes: readonly Uint8Array[];
}

function bytesOfPrefix(text: string, routerAddress = false): { prefix: Uint8Array; length: number } {
  const p = parsePrefix(text, routerAddress);
  if (typeof p === 'string') throw new Error(`${text} ${p}`); // checkSettings refused it already
  return p;
}

/** The wire-level content for settings that passed checkSettings. */
export function toContent(s: RaInterfaceSettings, link: LinkFacts): RaContent {
  const prefixes: RaPrefix[] = [];
  for (const p of s.prefixes) {
    const flags = { onLink: p.onLink, autonomous: p.autonomous, routerAddress: p.routerAddress, validLifetimeSec: p.validLifetimeSec, preferredLifetimeSec: p.preferredLifetimeSec, deprecateOnExit: p.deprecateOnExit === true, decrementLifetimes: p.decrementLifetimes === true };
    if (p.prefix === AUTO_PREFIX) for (const a of link.autoPrefixes.filter((x) => !autoExcluded(s, x))) prefixes.push({ prefix: a, prefixLength: 64, ...flags });
    else {
      const { prefix, length } = bytesOfPrefix(p.prefix, p.routerAddress);
      prefixes.push({ prefix, prefixLength: length, ...flags });
    }
  }
  return {
    curHopLimit: s.curHopLimit,
    managed: s.managed,
    otherConfig: s.otherConfig,
    preference: PREFERENCE_BITS[s.routerPreference],
    routerLifetimeSec: s.routerLifetimeSec,
    reachableTimeMs: s.reachableTimeMs,
    retransTimerMs: s.retransTimerMs,
    sourceLinkLayerAddress: s.sourceLinkLayerAddress ? link.mac : undefined,
    mtu: s.mtu,
    prefixes,
    routes: s.routes.map((r) => {
      const { prefix, length } = bytesOfPrefix(r.prefix);
      return { prefix, prefixLength: length, preference: PREFERENCE_BITS[r.preference], lifetimeSec: r.lifetimeSec, removeOnExit: r.removeOnExit !== false };
    }),
    rdnss: s.rdnss.map((d) => ({ servers: d.servers.map((a) => parseIpv6(a)), lifetimeSec: d.lifetimeSec, flushOnExit: d.flushOnExit !== false })),
    dnssl: s.dnssl.map((d) => ({ domains: [...d.domains], lifetimeSec: d.lifetimeSec, flushOnExit: d.flushOnExit !== false })),
    ...moreContent(s),
  };
}

/** The engine config for settings that passed checkSettings, on a link with `linkMtu`. */
export function toEngineConfig(s: RaInterfaceSettings, link: LinkFacts, linkMtu: number): RaSenderConfig {
  return {
    schedule: {
      minIntervalMs: Math.round(s.minIntervalSec * 1000),
      maxIntervalMs: Math.round(s.maxIntervalSec * 1000),
      minDelayBetweenRasMs: Math.round(s.minDelayBetweenRasSec * 1000),
      unicastSolicited: s.unicastSolicited,
      unicastOnly: s.unicastOnly,
      clients: s.clients.map((c) => parseIpv6(c)),
      maxUnicastPerSec: s.maxUnicastPerSec,
      finalAdvertisements: s.finalAdvertisements,
    },
    content: toContent(s, link),
    linkMtu: raMtu(s, linkMtu),
  };
}

/** Problems only the running interface can show: an MTU option above the link's MTU, an RA part that does not fit. */
export function linkProblems(s: RaInterfaceSettings, link: LinkFacts, linkMtu: number): string[] {
  const out: string[] = [];
  if (s.mtu > linkMtu) out.push(`interface ${s.name}: mtu (${s.mtu}) is above the interface's own MTU (${linkMtu})`);
  const fit = raFitProblem(toContent(s, link), raMtu(s, linkMtu));
  if (fit !== undefined) out.push(`interface ${s.name}: ${fit}`);
  return out;
}
