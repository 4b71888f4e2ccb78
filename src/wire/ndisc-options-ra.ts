// Router Advertisement options beyond RFC 4861's own, as radvd, odhcpd and CoreRAD send them:
// Advertisement Interval (RFC 6275 §7.3), Home Agent Information (RFC 6275 §7.4, with the NEMO R bit of
// RFC 3963 §4.1), 6LoWPAN Context (RFC 6775 §4.2), Authoritative Border Router (RFC 6775 §4.3), Captive Portal
// (RFC 8910 §2.3), PREF64 (RFC 8781 §4) and Encrypted DNS / DNR (RFC 9463 §6.1).
//
// ndisc-options.ts dispatches to these by type: decodeRaOption returns undefined for a body the RFC says to
// ignore (wrong length, reserved codes, names that do not parse), which the caller keeps as a `raw` option.
// Lengths are in the RFCs' units as named on each field (seconds, milliseconds, 60 s, 8 s).

import { WireError } from './errors.js';
import { checkUint, domainWireLength, putU16, putU32, readDomainName, u16, u32, writeDomain } from './ndisc-fields.js';


/** IANA "IPv6 Neighbor Discovery Option Formats" codes of the options in this file. */
export const RA_OPTION = {
  ADV_INTERVAL: 7,
  HOME_AGENT_INFO: 8,
  SIXLOWPAN_CONTEXT: 34,
  ABRO: 35,
  CAPTIVE_PORTAL: 37,
  PREF64: 38,
  DNR: 144,
} as const;

/** RFC 6275 §7.3: the longest time between this router's unsolicited multicast RAs, in milliseconds. */
export interface AdvIntervalOption {
  kind: 'adv-interval';
  intervalMs: number;
}

/** RFC 6275 §7.4 Home Agent Information; `mobileRouterSupport` is RFC 3963's R bit. */
export interface HomeAgentInfoOption {
  kind: 'home-agent-info';
  mobileRouterSupport: boolean;
  /** Signed 16-bit; higher is more preferred. */
  preference: number;
  lifetimeSec: number; // 1..65535
}

/** RFC 6775 §4.2 6LoWPAN Context Option (6CO). */
export interface SixLowpanContextOption {
  kind: '6lowpan-context';
  contextLength: number; // bits of `prefix` that are the context, 0..128
  compression: boolean; // C
  contextId: number; // CID, 0..15
  validLifetimeMin: number; // units of 60 s
  /** 8 bytes (length 2) or 16 bytes (length 3). */
  prefix: Uint8Array;
}

/** RFC 6775 §4.3 Authoritative Border Router Option (ABRO). */
export interface AbroOption {
  kind: 'abro';
  versionLow: number;
  versionHigh: number;
  validLifetimeMin: number; // units of 60 s; 0 = the default 10000
  address: Uint8Array; // 16 bytes, the 6LBR
}

/** RFC 8910 §2.3: the URI of the captive portal API (RFC 8908), padded with NULs. */
export interface CaptivePortalOption {
  kind: 'captive-portal';
  uri: string;
}

/** RFC 8781 §4 PREF64: a NAT64 prefix (RFC 6052 lengths 32, 40, 48, 56, 64, 96). */
export interface Pref64Option {
  kind: 'pref64';
  scaledLifetime: number; // units of 8 s, 0..8191
  prefixLength: number;
  prefix: Uint8Array; // 12 bytes: the highest 96 bits
}

/** RFC 9463 §6.1 Encrypted DNS (DNR). No addresses = ADN-only mode (no address or SvcParams fields). */
export interface DnrOption {
  kind: 'dnr';
  priority: number; // Service Priority, 1..65535
  lifetimeSec: number;
  adn: string; // Authentication Domain Name
  addresses: Uint8Array[]; // 16 bytes each
  /** RFC 9460 §2.2 SvcParams wire form (svcParamsBytes builds it); empty in ADN-only mode. */
  svcParams: Uint8Array;
}

export type RaOption = AdvIntervalOption | HomeAgentInfoOption | SixLowpanContextOption | AbroOption | CaptivePortalOption | Pref64Option | DnrOption;

/** RFC 8781 §4: PLC 0..5 encode these prefix lengths. */
export const PREF64_LENGTHS: readonly number[] = [96, 64, 56, 48, 40, 32];
/** RFC 8781 §4: 13 bits of 8-second units. */
export const PREF64_MAX_LIFETIME_SEC = 8191 * 8;

/** RFC 8781 §4.1: the lifetime in 8-second units, rounded up so it never expires before the configured time. */
export function pref64ScaledLifetime(lifetimeSec: number): number {
  return Math.min(8191, Math.ceil(lifetimeSec / 8));
}

/** RFC 9460 §14.3 SvcParamKeys used by DNR (RFC 9463 §3.1.5; dohpath is RFC 9461). */
export const SVC_PARAM_KEY = { ALPN: 1, PORT: 3, DOHPATH: 7 } as const;

/** The SvcParams bytes (RFC 9460 §2.2: keys in increasing order, each key, length, value). */
export function svcParamsBytes(p: { alpn?: readonly string[]; port?: number; dohpath?: string }): Uint8Array {
  const parts: Array<[number, Uint8Array]> = [];
  if (p.alpn !== undefined && p.alpn.length > 0) {
    const ids = p.alpn.map((a) => new TextEncoder().encode(a));
    const v = new Uint8Array(ids.reduce((n, id) => n + 1 + id.length, 0));
    let at = 0;
    for (const id of ids) {
      if (id.length === 0 || id.length > 255) throw new WireError('WIRE_BAD_VALUE', 'svcparams: alpn ids must be 1..255 bytes');
      v[at++] = id.length;
      v.set(id, at);
      at += id.length;
    }
    parts.push([SVC_PARAM_KEY.ALPN, v]);
  }
  if (p.port !== undefined) {
    const v = new Uint8Array(2);
    putU16(v, 0, p.port, 'svcparams port');
    parts.push([SVC_PARAM_KEY.PORT, v]);
  }
  if (p.dohpath !== undefined) parts.push([SVC_PARAM_KEY.DOHPATH, new TextEncoder().encode(p.dohpath)]);
  const out = new Uint8Array(parts.reduce((n, [, v]) => n + 4 + v.length, 0));
  let at = 0;
  for (const [key, v] of parts) {
    putU16(out, at, key, 'svcparam key');
    putU16(out, at + 2, v.length, 'svcparam length');
    out.set(v, at + 4);
    at += 4 + v.length;
  }
  return out;
}

/** Decodes the body of an option of a type in RA_OPTION (`opt` is the whole option); undefined = keep it raw. */
export function decodeRaOption(opt: Uint8Array): RaOption | undefined {
  const units = opt[1]!;
  switch (opt[0]) {
    case RA_OPTION.ADV_INTERVAL:
      return units === 1 ? { kind: 'adv-interval', intervalMs: u32(opt, 4) } : undefined;
    case RA_OPTION.HOME_AGENT_INFO:
      if (units !== 1) return undefined;
      return { kind: 'home-agent-info', mobileRouterSupport: (opt[2]! & 0x80) !== 0, preference: (u16(opt, 4) << 16) >> 16, lifetimeSec: u16(opt, 6) };
    case RA_OPTION.SIXLOWPAN_CONTEXT: {
      const contextLength = opt[2]!;
      if ((units !== 2 && units !== 3) || contextLength > (units === 2 ? 64 : 128)) return undefined;
      return { kind: '6lowpan-context', contextLength, compression: (opt[3]! & 0x10) !== 0, contextId: opt[3]! & 0x0f, validLifetimeMin: u16(opt, 6), prefix: opt.subarray(8) };
    }
    case RA_OPTION.ABRO:
      if (units !== 3) return undefined;
      return { kind: 'abro', versionLow: u16(opt, 2), versionHigh: u16(opt, 4), validLifetimeMin: u16(opt, 6), address: opt.subarray(8, 24) };
    case RA_OPTION.CAPTIVE_PORTAL: {
      let end = opt.length;
      while (end > 2 && opt[end - 1] === 0) end--;
      let uri = '';
      for (let i = 2; i < end; i++) uri += String.fromCharCode(opt[i]!);
      return { kind: 'captive-portal', uri };
    }
    case RA_OPTION.PREF64: {
      const plc = opt[3]! & 0x07;
      if (units !== 2 || plc >= PREF64_LENGTHS.length) return undefined;
      return { kind: 'pref64', scaledLifetime: u16(opt, 2) >> 3, prefixLength: PREF64_LENGTHS[plc]!, prefix: opt.subarray(4, 16) };
    }
    case RA_OPTION.DNR:
      return decodeDnr(opt);
  }
  return undefined;
}

function decodeDnr(opt: Uint8Array): DnrOption | undefined {
  if (opt.length < 10) return undefined;
  const adnLength = u16(opt, 8);
  const adnEnd = 10 + adnLength;
  if (adnLength === 0 || adnEnd > opt.length) return undefined;
  const adn = readDomainName(opt, 10, adnEnd);
  if (adn === undefined || adn.next !== adnEnd) return undefined;
  const base = { kind: 'dnr' as const, priority: u16(opt, 2), lifetimeSec: u32(opt, 4), adn: adn.name };
  // ADN-only mode: what follows is padding (RFC 9463 §6.1).
  if (opt.subarray(adnEnd).every((b) => b === 0)) return { ...base, addresses: [], svcParams: opt.subarray(opt.length) };
  if (adnEnd + 2 > opt.length) return undefined;
  const addrLength = u16(opt, adnEnd);
  const addrEnd = adnEnd + 2 + addrLength;
  if (addrLength === 0 || addrLength % 16 !== 0 || addrEnd + 2 > opt.length) return undefined;
  const addresses: Uint8Array[] = [];
  for (let at = adnEnd + 2; at < addrEnd; at += 16) addresses.push(opt.subarray(at, at + 16));
  const svcEnd = addrEnd + 2 + u16(opt, addrEnd);
  if (svcEnd > opt.length) return undefined;
  return { ...base, addresses, svcParams: opt.subarray(addrEnd + 2, svcEnd) };
}

/** Bytes the option takes on the wire, before ndisc-options.ts pads to 8 (it checks the 2040-byte limit). */
export function raOptionUnpaddedLength(o: RaOption): number {
  switch (o.kind) {
    case 'adv-interval':
    case 'home-agent-info':
      return 8;
    case '6lowpan-context':
      if (o.prefix.length !== 8 && o.prefix.length !== 16) throw new WireError('WIRE_BAD_VALUE', `ndisc 6co: context prefix of ${o.prefix.length} bytes, must be 8 or 16`);
      return 8 + o.prefix.length;
    case 'abro':
      return 24;
    case 'captive-portal':
      return 2 + o.uri.length;
    case 'pref64':
      return 16;
    case 'dnr':
      return 10 + domainWireLength(o.adn) + (o.addresses.length === 0 ? 0 : 4 + 16 * o.addresses.length + o.svcParams.length);
  }
}

/** Writes the body of `o` after the type/length bytes at out[at] (zeroed by the caller); returns the type code. */
export function writeRaOption(o: RaOption, out: Uint8Array, at: number): number {
  switch (o.kind) {
    case 'adv-interval':
      putU32(out, at + 4, o.intervalMs, 'advertisement interval');
      return RA_OPTION.ADV_INTERVAL;
    case 'home-agent-info':
      if (!(Number.isInteger(o.preference) && o.preference >= -0x8000 && o.preference <= 0x7fff)) throw new WireError('WIRE_BAD_VALUE', `ndisc: home agent preference ${o.preference} not in -32768..32767`);
      out[at + 2] = o.mobileRouterSupport ? 0x80 : 0;
      putU16(out, at + 4, o.preference & 0xffff, 'home agent preference');
      putU16(out, at + 6, o.lifetimeSec, 'home agent lifetime');
      return RA_OPTION.HOME_AGENT_INFO;
    case '6lowpan-context':
      checkUint(o.contextLength, o.prefix.length * 8, 'context length');
      checkUint(o.contextId, 15, 'context id');
      out[at + 2] = o.contextLength;
      out[at + 3] = (o.compression ? 0x10 : 0) | o.contextId;
      putU16(out, at + 6, o.validLifetimeMin, '6co valid lifetime');
      out.set(o.prefix, at + 8);
      return RA_OPTION.SIXLOWPAN_CONTEXT;
    case 'abro':
      if (o.address.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'ndisc abro: address must be 16 bytes');
      putU16(out, at + 2, o.versionLow, 'abro version low');
      putU16(out, at + 4, o.versionHigh, 'abro version high');
      putU16(out, at + 6, o.validLifetimeMin, 'abro valid lifetime');
      out.set(o.address, at + 8);
      return RA_OPTION.ABRO;
    case 'captive-portal':
      for (let i = 0; i < o.uri.length; i++) {
        const c = o.uri.charCodeAt(i);
        if (c < 0x21 || c > 0x7e) throw new WireError('WIRE_BAD_VALUE', 'ndisc captive portal: the URI must be printable ASCII (RFC 3986)');
        out[at + 2 + i] = c;
      }
      return RA_OPTION.CAPTIVE_PORTAL;
    case 'pref64': {
      const plc = PREF64_LENGTHS.indexOf(o.prefixLength);
      if (plc < 0) throw new WireError('WIRE_BAD_VALUE', `ndisc pref64: prefix length ${o.prefixLength} is not one of 96, 64, 56, 48, 40, 32`);
      if (o.prefix.length !== 12) throw new WireError('WIRE_BAD_VALUE', 'ndisc pref64: prefix must be 12 bytes');
      checkUint(o.scaledLifetime, 8191, 'pref64 scaled lifetime');
      putU16(out, at + 2, (o.scaledLifetime << 3) | plc, 'pref64 lifetime');
      out.set(o.prefix, at + 4);
      return RA_OPTION.PREF64;
    }
    case 'dnr': {
      putU16(out, at + 2, o.priority, 'dnr priority');
      putU32(out, at + 4, o.lifetimeSec, 'dnr lifetime');
      const adnEnd = writeDomain(o.adn, out, at + 10);
      putU16(out, at + 8, adnEnd - at - 10, 'dnr adn length');
      if (o.addresses.length === 0) return RA_OPTION.DNR;
      putU16(out, adnEnd, 16 * o.addresses.length, 'dnr address length');
      o.addresses.forEach((a, k) => {
        if (a.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'ndisc dnr: addresses must be 16 bytes');
        out.set(a, adnEnd + 2 + 16 * k);
      });
      const svcAt = adnEnd + 2 + 16 * o.addresses.length;
      putU16(out, svcAt, o.svcParams.length, 'dnr svcparams length');
      out.set(o.svcParams, svcAt + 2);
      return RA_OPTION.DNR;
    }
  }
}
