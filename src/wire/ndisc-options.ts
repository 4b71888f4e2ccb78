// Neighbor Discovery options (RFC 4861 §4.6): Source/Target Link-Layer Address (§4.6.1), Prefix Information
// (§4.6.2), MTU (§4.6.4), Route Information (RFC 4191 §2.3), RDNSS and DNSSL (RFC 8106 §5.1, §5.2).
//
// Every option is type, length (in units of 8 bytes, including the 2-byte type/length header), data. Structural
// errors reject the whole message, as RFC 4861 §4.6 requires: a zero length is WIRE_BAD_LENGTH, an option that
// runs past the end is WIRE_TRUNCATED. Anything else the codec does not interpret is kept as a `raw` option
// {type, data} that re-encodes byte for byte: unknown types (which §4.6 says to skip) and known types whose
// length the RFCs say to ignore (a PIO that is not 32 bytes, an inconsistent Route Information, an RDNSS with an
// even length, a DNSSL whose names do not parse). Known options decode zero-copy (address fields are views) and
// re-encode byte-exactly except that reserved fields and reserved flag bits are written as zero.

import { WireError } from './errors.js';
import { RA_OPTION, decodeRaOption, raOptionUnpaddedLength, writeRaOption, type RaOption } from './ndisc-options-ra.js';
import { checkUint, domainWireLength, putU32, readDomainName, u32, writeDomain } from './ndisc-fields.js';

/** Option type codes (IANA "IPv6 Neighbor Discovery Option Formats"). */
export const NDISC_OPTION = {
  SOURCE_LL_ADDR: 1,
  TARGET_LL_ADDR: 2,
  PREFIX_INFO: 3,
  REDIRECTED_HEADER: 4,
  MTU: 5,
  ROUTE_INFO: 24,
  RDNSS: 25,
  DNSSL: 31,
} as const;

/** Two-bit router / route preference (RFC 4191 §2.1). RESERVED is treated as MEDIUM by receivers. */
export const ROUTE_PREFERENCE = { MEDIUM: 0, HIGH: 1, RESERVED: 2, LOW: 3 } as const;
export type RoutePreference = 0 | 1 | 2 | 3;

/** The all-ones lifetime meaning "infinity" (RFC 4861 §4.6.2, RFC 4191 §2.3, RFC 8106 §5.1). */
export const INFINITE_LIFETIME = 0xffffffff;

export interface LinkLayerAddressOption {
  kind: 'source-ll-addr' | 'target-ll-addr';
  /** On decode: all bytes after type and length, padding included (the link type, not ND, knows the size). */
  linkLayerAddress: Uint8Array;
}

export interface PrefixInfoOption {
  kind: 'prefix-info';
  prefixLength: number;
  onLink: boolean; // L
  autonomous: boolean; // A
  routerAddress: boolean; // R (RFC 6275 §7.2)
  validLifetimeSec: number;
  preferredLifetimeSec: number;
  prefix: Uint8Array; // 16 bytes
}

export interface MtuOption {
  kind: 'mtu';
  mtu: number;
}

export interface RouteInfoOption {
  kind: 'route-info';
  prefixLength: number;
  preference: RoutePreference;
  routeLifetimeSec: number;
  /** 0, 8 or 16 bytes: the option length is 1, 2 or 3 units accordingly. */
  prefix: Uint8Array;
}

export interface RdnssOption {
  kind: 'rdnss';
  lifetimeSec: number;
  servers: Uint8Array[]; // 16 bytes each, at least one
}

export interface DnsslOption {
  kind: 'dnssl';
  lifetimeSec: number;
  /** Names without the trailing dot, labels of printable ASCII other than '.', at least one name. */
  domains: string[];
}

export interface RawOption {
  kind: 'raw';
  type: number;
  /** Everything after type and length; the encoder zero-pads it to a multiple of 8 with the header. */
  data: Uint8Array;
}

/** The RA options of ndisc-options-ra.ts (RFC 6275, RFC 6775, RFC 8910, RFC 8781, RFC 9463) are NdiscOptions too. */
export type NdiscOption = LinkLayerAddressOption | PrefixInfoOption | MtuOption | RouteInfoOption | RdnssOption | DnsslOption | RaOption | RawOption;

const UNIT = 8;
const MAX_OPTION_LEN = 255 * UNIT;

/** Decodes a run of options filling `bytes` exactly (the tail of an RS, RA, NS or NA). */
export function decodeNdiscOptions(bytes: Uint8Array): NdiscOption[] {
  const options: NdiscOption[] = [];
  let i = 0;
  while (i < bytes.length) {
    if (i + 2 > bytes.length) throw new WireError('WIRE_TRUNCATED', `ndisc option at ${i}: no length byte`);
    const units = bytes[i + 1]!;
    // RFC 4861 §4.6: "Nodes MUST silently discard an ND packet that contains an option with length zero."
    if (units === 0) throw new WireError('WIRE_BAD_LENGTH', `ndisc option type ${bytes[i]} at ${i}: length zero`);
    const end = i + units * UNIT;
    if (end > bytes.length) throw new WireError('WIRE_TRUNCATED', `ndisc option type ${bytes[i]} at ${i}: ${units * UNIT} bytes, ${bytes.length - i} left`);
    options.push(decodeOption(bytes.subarray(i, end)));
    i = end;
  }
  return options;
}

/** `opt` is one whole option, header included, its length already checked against the buffer. */
function decodeOption(opt: Uint8Array): NdiscOption {
  const type = opt[0]!;
  const units = opt[1]!;
  switch (type) {
    case NDISC_OPTION.SOURCE_LL_ADDR:
    case NDISC_OPTION.TARGET_LL_ADDR:
      return { kind: type === NDISC_OPTION.SOURCE_LL_ADDR ? 'source-ll-addr' : 'target-ll-addr', linkLayerAddress: opt.subarray(2) };
    case NDISC_OPTION.PREFIX_INFO:
      if (units !== 4) break;
      return {
        kind: 'prefix-info',
        prefixLength: opt[2]!,
        onLink: (opt[3]! & 0x80) !== 0,
        autonomous: (opt[3]! & 0x40) !== 0,
        routerAddress: (opt[3]! & 0x20) !== 0,
        validLifetimeSec: u32(opt, 4),
        preferredLifetimeSec: u32(opt, 8),
        prefix: opt.subarray(16, 32),
      };
    case NDISC_OPTION.MTU:
      if (units !== 1) break;
      return { kind: 'mtu', mtu: u32(opt, 4) };
    case NDISC_OPTION.ROUTE_INFO: {
      // RFC 4191 §2.3: length 1, 2 or 3; a prefix longer than 64 needs 3, a non-zero one at least 2.
      const prefixLength = opt[2]!;
      if (units > 3 || prefixLength > 128 || prefixLength > (units - 1) * 64) break;
      return {
        kind: 'route-info',
        prefixLength,
        preference: ((opt[3]! >> 3) & 3) as RoutePreference,
        routeLifetimeSec: u32(opt, 4),
        prefix: opt.subarray(8),
      };
    }
    case NDISC_OPTION.RDNSS: {
      // RFC 8106 §5.1: 1 + 2n units for n >= 1 addresses.
      if (units < 3 || units % 2 === 0) break;
      const servers: Uint8Array[] = [];
      for (let at = 8; at < opt.length; at += 16) servers.push(opt.subarray(at, at + 16));
      return { kind: 'rdnss', lifetimeSec: u32(opt, 4), servers };
    }
    case NDISC_OPTION.DNSSL: {
      const domains = units >= 2 ? decodeDomainList(opt, 8) : undefined;
      if (domains === undefined) break;
      return { kind: 'dnssl', lifetimeSec: u32(opt, 4), domains };
    }
    case RA_OPTION.ADV_INTERVAL:
    case RA_OPTION.HOME_AGENT_INFO:
    case RA_OPTION.SIXLOWPAN_CONTEXT:
    case RA_OPTION.ABRO:
    case RA_OPTION.CAPTIVE_PORTAL:
    case RA_OPTION.PREF64:
    case RA_OPTION.DNR:
      return decodeRaOption(opt) ?? { kind: 'raw', type, data: opt.subarray(2) };
  }
  return { kind: 'raw', type, data: opt.subarray(2) };
}

/** RFC 8106 §5.2: uncompressed names (RFC 1035 §3.1) then zero padding. Undefined if that is not what is there. */
function decodeDomainList(opt: Uint8Array, start: number): string[] | undefined {
  const domains: string[] = [];
  let i = start;
  while (i < opt.length && opt[i] !== 0) {
    const read = readDomainName(opt, i, opt.length);
    if (read === undefined) return undefined;
    domains.push(read.name);
    i = read.next;
  }
  for (; i < opt.length; i++) if (opt[i] !== 0) return undefined;
  return domains.length > 0 ? domains : undefined;
}

export function ndiscOptionsEncodedLength(options: readonly NdiscOption[]): number {
  let n = 0;
  for (const o of options) n += ndiscOptionEncodedLength(o);
  return n;
}

/** Writes the options back to back at `out[offset]` (a larger message being assembled); returns the offset after them. */
export function writeNdiscOptions(options: readonly NdiscOption[], out: Uint8Array, offset: number): number {
  let at = offset;
  for (const o of options) at = writeNdiscOption(o, out, at);
  return at;
}

/** Bytes the option takes on the wire, padding included. Throws WIRE_BAD_VALUE if it cannot be encoded. */
export function ndiscOptionEncodedLength(o: NdiscOption): number {
  let len: number;
  switch (o.kind) {
    case 'source-ll-addr':
    case 'target-ll-addr':
      if (o.linkLayerAddress.length === 0) throw new WireError('WIRE_BAD_VALUE', 'ndisc: empty link-layer address');
      len = padded(2 + o.linkLayerAddress.length);
      break;
    case 'prefix-info':
      len = 32;
      break;
    case 'mtu':
      len = 8;
      break;
    case 'route-info':
      if (o.prefix.length !== 0 && o.prefix.length !== 8 && o.prefix.length !== 16) throw new WireError('WIRE_BAD_VALUE', `ndisc route info: prefix of ${o.prefix.length} bytes, must be 0, 8 or 16`);
      len = 8 + o.prefix.length;
      break;
    case 'rdnss':
      if (o.servers.length === 0) throw new WireError('WIRE_BAD_VALUE', 'ndisc rdnss: no servers');
      len = 8 + 16 * o.servers.length;
      break;
    case 'dnssl':
      if (o.domains.length === 0) throw new WireError('WIRE_BAD_VALUE', 'ndisc dnssl: no domains');
      len = 8;
      for (const d of o.domains) len += domainWireLength(d);
      len = padded(len);
      break;
    case 'raw':
      len = padded(2 + o.data.length);
      break;
    default:
      len = padded(raOptionUnpaddedLength(o));
  }
  if (len > MAX_OPTION_LEN) throw new WireError('WIRE_BAD_VALUE', `ndisc ${o.kind} option: ${len} bytes, max ${MAX_OPTION_LEN}`);
  return len;
}

/** Writes one option with zeroed reserved fields and padding; returns a view of the bytes written. */
export function encodeNdiscOption(o: NdiscOption, out?: Uint8Array, offset = 0): Uint8Array {
  const buf = out ?? new Uint8Array(offset + ndiscOptionEncodedLength(o));
  return buf.subarray(offset, writeNdiscOption(o, buf, offset));
}

function writeNdiscOption(o: NdiscOption, out: Uint8Array, at: number): number {
  const len = ndiscOptionEncodedLength(o);
  if (at < 0 || at + len > out.length) throw new RangeError('ndisc: output buffer too small');
  out.fill(0, at, at + len);
  out[at + 1] = len / UNIT;
  switch (o.kind) {
    case 'source-ll-addr':
    case 'target-ll-addr':
      out[at] = o.kind === 'source-ll-addr' ? NDISC_OPTION.SOURCE_LL_ADDR : NDISC_OPTION.TARGET_LL_ADDR;
      out.set(o.linkLayerAddress, at + 2);
      break;
    case 'prefix-info':
      checkUint(o.prefixLength, 128, 'prefix length');
      if (o.prefix.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'ndisc prefix info: prefix must be 16 bytes');
      out[at] = NDISC_OPTION.PREFIX_INFO;
      out[at + 2] = o.prefixLength;
      out[at + 3] = (o.onLink ? 0x80 : 0) | (o.autonomous ? 0x40 : 0) | (o.routerAddress ? 0x20 : 0);
      putU32(out, at + 4, o.validLifetimeSec, 'valid lifetime');
      putU32(out, at + 8, o.preferredLifetimeSec, 'preferred lifetime');
      out.set(o.prefix, at + 16);
      break;
    case 'mtu':
      out[at] = NDISC_OPTION.MTU;
      putU32(out, at + 4, o.mtu, 'mtu');
      break;
    case 'route-info':
      checkUint(o.prefixLength, o.prefix.length * 8, 'route prefix length');
      checkUint(o.preference, 3, 'route preference');
      out[at] = NDISC_OPTION.ROUTE_INFO;
      out[at + 2] = o.prefixLength;
      out[at + 3] = o.preference << 3;
      putU32(out, at + 4, o.routeLifetimeSec, 'route lifetime');
      out.set(o.prefix, at + 8);
      break;
    case 'rdnss':
      out[at] = NDISC_OPTION.RDNSS;
      putU32(out, at + 4, o.lifetimeSec, 'rdnss lifetime');
      o.servers.forEach((s, k) => {
        if (s.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'ndisc rdnss: server addresses must be 16 bytes');
        out.set(s, at + 8 + 16 * k);
      });
      break;
    case 'dnssl': {
      out[at] = NDISC_OPTION.DNSSL;
      putU32(out, at + 4, o.lifetimeSec, 'dnssl lifetime');
      let p = at + 8;
      for (const d of o.domains) p = writeDomain(d, out, p);
      break;
    }
    case 'raw':
      checkUint(o.type, 0xff, 'option type');
      out[at] = o.type;
      out.set(o.data, at + 2);
      break;
    default:
      out[at] = writeRaOption(o, out, at);
  }
  return at + len;
}

function padded(n: number): number {
  return Math.ceil(n / UNIT) * UNIT;
}

// Field helpers, re-exported for ndisc.ts and older importers.
export { checkUint, putU32, u32 } from './ndisc-fields.js';
