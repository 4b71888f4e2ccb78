// The RA options beyond RFC 4861/4191/8106 in the user's units, from radvd.conf (radvd-conf.ts) or ra-sender's
// own config (config.ts): Mobile IPv6's H flag, Advertisement Interval and Home Agent Information (RFC 6275
// §7.1, §7.3, §7.4), 6LoWPAN 6CO and ABRO (RFC 6775 §4.2, §4.3), PREF64 (RFC 8781), captive portal (RFC 8910)
// and DNR (RFC 9463); plus radvd's AdvRAMTU and autoignoreprefixes. Checked with messages naming the field,
// then turned into RaContent fields (src/engine/ra/content.ts).

import type { RaContent } from '../../src/engine/ra/content.js';
import { formatIpv6, isLinkLocal6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { PREF64_LENGTHS, PREF64_MAX_LIFETIME_SEC, svcParamsBytes } from '../../src/wire/ndisc-options-ra.js';
import { domainWireLength } from '../../src/wire/ndisc-fields.js';
import { MIN_LINK_MTU, isIpv6, parsePrefix, type RaInterfaceSettings } from './settings.js';

export interface Pref64Settings {
  readonly prefix: string; // P/LEN, LEN one of 96, 64, 56, 48, 40, 32
  readonly lifetimeSec: number;
}

export interface DnrSettings {
  readonly priority: number; // 1..65535
  readonly adn: string;
  readonly addresses: readonly string[];
  readonly lifetimeSec: number;
  readonly alpn?: readonly string[];
  readonly port?: number;
  readonly dohpath?: string;
}

export interface LowpanContextSettings {
  readonly contextLength: number;
  readonly compression: boolean;
  readonly contextId: number;
  readonly lifetimeMin: number;
}

export interface AbroSettings {
  readonly address: string;
  readonly versionLow: number;
  readonly versionHigh: number;
  readonly lifetimeMin: number;
}

export interface MoreSettings {
  /** RFC 6275 §7.1 H flag (AdvHomeAgentFlag). */
  readonly homeAgentFlag?: boolean;
  /** RFC 6275 §7.3 Advertisement Interval option (AdvIntervalOpt). */
  readonly advIntervalOpt?: boolean;
  /** RFC 6275 §7.4 option (AdvHomeAgentInfo, HomeAgentPreference, HomeAgentLifetime, AdvMobRtrSupportFlag). */
  readonly homeAgentInfo?: { readonly preference: number; readonly lifetimeSec: number; readonly mobileRouterSupport: boolean };
  /** radvd AdvRAMTU: RAs are split to fit this many bytes (with the IPv6 header) even on a larger link MTU. */
  readonly raMtu?: number;
  /** radvd autoignoreprefixes: prefixes `prefix auto` leaves out. */
  readonly autoExclude?: readonly string[];
  readonly pref64?: readonly Pref64Settings[];
  readonly captivePortal?: string;
  readonly dnr?: readonly DnrSettings[];
  readonly lowpanContexts?: readonly LowpanContextSettings[];
  readonly abros?: readonly AbroSettings[];
  /** radvd AdvRASrcAddress: RAs leave from the first of these the interface holds (else its link-local address). */
  readonly raSourceAddresses?: readonly string[];
}

/** radvd check_iface: the Mobile IPv6 extensions (and so RFC 6275 §7.5's shorter intervals) are in use. */
export function isMobileIpv6(s: RaInterfaceSettings): boolean {
  const m = s.more;
  return m?.homeAgentFlag === true || m?.advIntervalOpt === true || m?.homeAgentInfo !== undefined || s.prefixes.some((p) => p.routerAddress);
}

/** The size RAs are split to: the link MTU, or AdvRAMTU when smaller. */
export function raMtu(s: RaInterfaceSettings, linkMtu: number): number {
  return Math.min(linkMtu, s.more?.raMtu ?? linkMtu);
}

/** Whether an `auto` /64 (16 bytes) falls inside one of the autoignoreprefixes. */
export function autoExcluded(s: RaInterfaceSettings, prefix: Uint8Array): boolean {
  for (const text of s.more?.autoExclude ?? []) {
    const p = parsePrefix(text, true);
    if (typeof p === 'string') continue;
    let inside = true;
    for (let bit = 0; bit < p.length && inside; bit++) {
      const mask = 0x80 >> (bit & 7);
      inside = (prefix[bit >> 3]! & mask) === (p.prefix[bit >> 3]! & mask);
    }
    if (inside) return true;
  }
  return false;
}

const u16ok = (v: number, min = 0): boolean => Number.isInteger(v) && v >= min && v <= 0xffff;

/** Checks of the options in `s.more`, reported through the interface's err / warn. */
export function checkMore(s: RaInterfaceSettings, err: (m: string) => void, warn: (m: string) => void): void {
  const m = s.more;
  if (m === undefined) return;
  const ha = m.homeAgentInfo;
  if (ha !== undefined) {
    if (m.homeAgentFlag !== true) err('home agent information needs the home agent flag (AdvHomeAgentFlag on, RFC 6275 §7.4)');
    if (!u16ok(ha.lifetimeSec, 1)) err(`home agent lifetime (${ha.lifetimeSec}) must be 1..65535 s (RFC 6275 §7.4)`);
    if (!(Number.isInteger(ha.preference) && ha.preference >= -32768 && ha.preference <= 32767)) err(`home agent preference (${ha.preference}) must be -32768..32767`);
  }
  if (m.raMtu !== undefined && !(Number.isInteger(m.raMtu) && m.raMtu >= MIN_LINK_MTU)) err(`RA MTU (${m.raMtu}) must be at least ${MIN_LINK_MTU}`);
  for (const e of m.autoExclude ?? []) if (typeof parsePrefix(e, true) === 'string') err(`autoignoreprefixes ${e} must be an IPv6 prefix`);
  for (const p of m.pref64 ?? []) {
    const parsed = parsePrefix(p.prefix);
    if (typeof parsed === 'string') err(`pref64 ${p.prefix} ${parsed}`);
    else if (!PREF64_LENGTHS.includes(parsed.length)) err(`pref64 ${p.prefix}: the length must be 96, 64, 56, 48, 40 or 32 (RFC 6052 §2.2, RFC 8781 §4)`);
    if (!(Number.isInteger(p.lifetimeSec) && p.lifetimeSec >= 0 && p.lifetimeSec <= PREF64_MAX_LIFETIME_SEC)) err(`pref64 ${p.prefix}: lifetime (${p.lifetimeSec}) must be 0..${PREF64_MAX_LIFETIME_SEC} s (RFC 8781 §4: 13 bits of 8 s)`);
  }
  if (m.captivePortal !== undefined && !/^https:\/\/[\x21-\x7e]+$/.test(m.captivePortal)) err(`captive portal ${JSON.stringify(m.captivePortal)} must be an https:// URI of printable ASCII (RFC 8910 §2, RFC 8908 §2)`);
  for (const d of m.dnr ?? []) {
    const where = `dnr ${d.adn}`;
    if (!u16ok(d.priority, 1)) err(`${where}: priority (${d.priority}) must be 1..65535 (RFC 9463 §3.1.1)`);
    if (!(Number.isInteger(d.lifetimeSec) && d.lifetimeSec >= 0 && d.lifetimeSec <= 0xffffffff)) err(`${where}: lifetime (${d.lifetimeSec}) must be 0..4294967295`);
    try {
      domainWireLength(d.adn);
    } catch (e) {
      err(`${where}: ${(e as Error).message}`);
    }
    for (const a of d.addresses) if (!isIpv6(a)) err(`${where}: ${JSON.stringify(a)} must be an IPv6 address`);
    if (d.addresses.length === 0 && (d.alpn !== undefined || d.port !== undefined || d.dohpath !== undefined)) err(`${where}: SvcParams (alpn, port, dohpath) need at least one address (RFC 9463 §6.1 ADN-only mode carries none)`);
    if (d.port !== undefined && !u16ok(d.port, 1)) err(`${where}: port (${d.port}) must be 1..65535`);
    if (d.dohpath !== undefined && !d.dohpath.includes('{?dns}')) warn(`${where}: dohpath ${d.dohpath} has no "{?dns}" variable (RFC 9461 §5)`);
  }
  for (const c of m.lowpanContexts ?? []) {
    if (!(Number.isInteger(c.contextLength) && c.contextLength >= 0 && c.contextLength <= 128)) err(`lowpanco: context length (${c.contextLength}) must be 0..128`);
    if (!u16ok(c.lifetimeMin)) err(`lowpanco: lifetime (${c.lifetimeMin}) must be 0..65535 (units of 60 s)`);
  }
  for (const a of m.raSourceAddresses ?? []) {
    if (!isIpv6(a)) err(`AdvRASrcAddress ${a} must be an IPv6 address`);
    else if (!isLinkLocal6(parseIpv6(a))) warn(`AdvRASrcAddress ${a} is not link-local: hosts drop RAs from any other source (RFC 4861 §6.1.2)`);
  }
  for (const a of m.abros ?? []) {
    if (!isIpv6(a.address)) err(`abro ${a.address} must be an IPv6 address`);
    if (!u16ok(a.versionLow) || !u16ok(a.versionHigh) || !u16ok(a.lifetimeMin)) err(`abro ${a.address}: versions and lifetime must be 0..65535`);
  }
}

/** RFC 6275 §7.3 value of AdvIntervalOpt: MaxRtrAdvInterval in ms, plus radvd's 20 ms below 200 ms (§7.5 timer granularity). */
export function advIntervalMs(maxIntervalSec: number): number {
  return Math.round(maxIntervalSec * 1000) + (maxIntervalSec < 0.2 ? 20 : 0);
}

/** The RaContent fields of `s.more`, for settings that passed checkMore. */
export function moreContent(s: RaInterfaceSettings): Partial<RaContent> {
  const m = s.more;
  if (m === undefined) return {};
  const bytes = (p: string): { prefix: Uint8Array; length: number } => parsePrefix(p) as { prefix: Uint8Array; length: number };
  return {
    homeAgent: m.homeAgentFlag === true,
    ...(m.advIntervalOpt === true ? { advIntervalMs: advIntervalMs(s.maxIntervalSec) } : {}),
    ...(m.homeAgentInfo !== undefined ? { homeAgentInfo: m.homeAgentInfo } : {}),
    ...(m.captivePortal !== undefined ? { captivePortal: m.captivePortal } : {}),
    pref64: (m.pref64 ?? []).map((p) => ({ prefix: bytes(p.prefix).prefix, prefixLength: bytes(p.prefix).length, lifetimeSec: p.lifetimeSec })),
    dnr: (m.dnr ?? []).map((d) => ({
      priority: d.priority,
      lifetimeSec: d.lifetimeSec,
      adn: d.adn,
      addresses: d.addresses.map((a) => parseIpv6(a)),
      svcParams: svcParamsBytes({ ...(d.alpn !== undefined ? { alpn: d.alpn } : {}), ...(d.port !== undefined ? { port: d.port } : {}), ...(d.dohpath !== undefined ? { dohpath: d.dohpath } : {}) }),
    })),
    // radvd has no context prefix setting: like radvd, the 16-byte prefix field is sent as zeros.
    lowpanContexts: (m.lowpanContexts ?? []).map((c) => ({ contextLength: c.contextLength, compression: c.compression, contextId: c.contextId & 0x0f, validLifetimeMin: c.lifetimeMin, prefix: new Uint8Array(16) })),
    abros: (m.abros ?? []).map((a) => ({ versionLow: a.versionLow, versionHigh: a.versionHigh, validLifetimeMin: a.lifetimeMin, address: parseIpv6(a.address) })),
  };
}

/** AdvRASrcAddress: the first configured source the interface now holds (`held`: its addresses past DAD), else undefined. */
export function raSource(s: RaInterfaceSettings, held: readonly string[]): string | undefined {
  for (const a of s.more?.raSourceAddresses ?? []) {
    const canonical = formatIpv6(parseIpv6(a));
    if (held.includes(canonical)) return canonical;
  }
  return undefined;
}
