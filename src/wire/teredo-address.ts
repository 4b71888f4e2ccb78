// Teredo IPv6 addresses: RFC 4380 §4 layout with the RFC 5991 flags, and the well-known link-local addresses
// used in qualification (RFC 4380 §5.2.1, §5.3.2).
//
//   | 2001:0000 (32) | server IPv4 (32) | flags (16) | ~mapped port (16) | ~mapped IPv4 (32) |
//   bytes 0-3          4-7                8-9          10-11               12-15
//
// Flags, most significant bit first (RFC 5991): C R A A A A U G A A A A A A A A
//   C = cone, R = reserved (0), U G = 00 (the universal/local and group bits of the interface id),
//   A = 12 random bits that make a Teredo address hard to guess (up to 4096 tries per mapping).
// The mapped port and IPv4 are stored inverted (XOR 0xffff / 0xffffffff, §4) so that NATs which rewrite every
// copy of the public address they find in a payload leave them alone. Addresses are 16-byte Uint8Arrays as
// in ipv6-address.ts; IPv4 addresses are int32 as in ipv4.ts.

import { WireError, wireAssert } from './errors.js';
import { ipv4FromBytes, ipv4ToBytes, isGlobalEndpoint4, isIpv4Number } from './ipv4.js';
import { TEREDO_PORT } from './teredo-constants.js';

/** RFC 4380 §2.6: the Teredo prefix 2001:0000::/32 (as a 16-byte address with the host part zero). */
export const TEREDO_PREFIX: Uint8Array = Uint8Array.of(0x20, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
export const TEREDO_PREFIX_LEN = 32;

/** The cone bit C (RFC 4380 §4). RFC 5991 tells peers not to rely on it; it still marks link-local sources. */
export const TEREDO_FLAG_CONE = 0x8000;
/** The reserved bit R (RFC 5991): sent as zero. */
export const TEREDO_FLAG_RESERVED = 0x4000;
/** The U and G bits: zero in every Teredo address (RFC 4380 §4, RFC 5991). */
export const TEREDO_FLAGS_UG = 0x0300;
/** Where the 12 random A bits sit in the flags word: 4 bits after C R, then 8 after U G. */
export const TEREDO_RANDOM_MASK = 0x3cff;
/** Largest value of the 12 random bits as a plain number. */
export const TEREDO_RANDOM_MAX = 0xfff;

/** A Teredo address with the mapping de-obfuscated. */
export interface TeredoAddress {
  /** IPv4 address of the client's Teredo server (bits 32-63). */
  readonly server: number;
  /** The 16-bit flags word exactly as on the wire. */
  readonly flags: number;
  /** The C bit of `flags`. */
  readonly cone: boolean;
  /** The 12 A bits of `flags` packed into 0..0xfff (high 4 bits from flags bits 13-10, low 8 from bits 7-0). */
  readonly randomBits: number;
  /** The client's public (NAT-mapped) UDP port. */
  readonly mappedPort: number;
  /** The client's public (NAT-mapped) IPv4 address. */
  readonly mappedAddr: number;
}

/**
 * What encodeTeredoAddress needs. Give either `flags`, or `cone` and/or `randomBits` (both default to 0/false).
 * If `flags` and the others are both present they must agree, so a decoded TeredoAddress re-encodes as is.
 */
export interface TeredoAddressInit {
  readonly server: number;
  readonly flags?: number;
  readonly cone?: boolean;
  readonly randomBits?: number;
  readonly mappedPort: number;
  readonly mappedAddr: number;
}

/** The interface identifier part (bytes 8-15) alone, shared by global and link-local Teredo addresses. */
export interface TeredoInterfaceId {
  readonly flags?: number;
  readonly cone?: boolean;
  readonly randomBits?: number;
  readonly mappedPort: number;
  readonly mappedAddr: number;
}

/** Builds the flags word from the cone bit and the 12 random bits (RFC 5991 layout). */
export function teredoFlags(opts: { readonly cone?: boolean; readonly randomBits?: number }): number {
  const random = opts.randomBits ?? 0;
  wireAssert(Number.isInteger(random) && random >= 0 && random <= TEREDO_RANDOM_MAX, 'WIRE_BAD_VALUE', `Teredo random bits must be 0..4095, got ${random}`);
  return (opts.cone === true ? TEREDO_FLAG_CONE : 0) | ((random & 0xf00) << 2) | (random & 0xff);
}

/** The 12 random bits of a flags word, as a number 0..0xfff. */
export function teredoRandomBits(flags: number): number {
  return ((flags & 0x3c00) >> 2) | (flags & 0xff);
}

/** True when `addr` (16 bytes at `offset`) lies in 2001:0000::/32. */
export function isTeredo(addr: Uint8Array, offset = 0): boolean {
  return addr.length - offset >= 16 && addr[offset] === 0x20 && addr[offset + 1] === 0x01 && addr[offset + 2] === 0 && addr[offset + 3] === 0;
}

// In-place accessors: read one field of a Teredo-format address lying in any buffer (a received packet) at
// `offset`, allocating nothing; the data path of the server, client and relay uses them. They do not check
// bounds or the prefix: the caller has already checked that 16 bytes are there (and isTeredo where it matters).

/** The flags word (bytes 8-9) of a Teredo-format address, global or link-local; e.g. the cone bit of an RS source. */
export function teredoFlagsAt(addr: Uint8Array, offset = 0): number {
  return (addr[offset + 8]! << 8) | addr[offset + 9]!;
}

/** The server IPv4 (int32, ipv4.ts) embedded in bytes 4-7. */
export function teredoServerAt(addr: Uint8Array, offset = 0): number {
  return ipv4FromBytes(addr, offset + 4);
}

/** The mapped UDP port, de-obfuscated from bytes 10-11 (§4). */
export function teredoMappedPortAt(addr: Uint8Array, offset = 0): number {
  return ((addr[offset + 10]! << 8) | addr[offset + 11]!) ^ 0xffff;
}

/** The mapped IPv4 (int32, ipv4.ts), de-obfuscated from bytes 12-15 (§4). */
export function teredoMappedAddrAt(addr: Uint8Array, offset = 0): number {
  return ~ipv4FromBytes(addr, offset + 12);
}

/**
 * True when the Teredo address at `offset` embeds exactly the mapping mappedAddr:mappedPort: the check behind
 * §5.3.1 case 5 (server), §5.2.3 (client) and §5.4.2 (relay) that a packet's IPv6 source belongs to the UDP
 * source it came from. False for an address outside 2001:0::/32.
 */
export function teredoEmbeds(addr: Uint8Array, offset: number, mappedAddr: number, mappedPort: number): boolean {
  return isTeredo(addr, offset) && teredoMappedPortAt(addr, offset) === mappedPort && teredoMappedAddrAt(addr, offset) === mappedAddr;
}

/**
 * §5.2.4: the server IPv4 embedded in the Teredo address at `offset` may receive indirect bubbles and
 * connectivity tests (to its port 3544): isGlobalEndpoint4 (ipv4.ts). The address is not checked to be Teredo.
 */
export function teredoServerIsGlobal(addr: Uint8Array, offset: number, allowNonGlobal = false): boolean {
  return isGlobalEndpoint4(teredoServerAt(addr, offset), TEREDO_PORT, allowNonGlobal);
}

/**
 * §5.2.4: the mapping embedded in the Teredo address at `offset` may receive packets and direct bubbles:
 * isGlobalEndpoint4 (ipv4.ts) of the mapped IPv4 and port. The address is not checked to be Teredo.
 */
export function teredoMappingIsGlobal(addr: Uint8Array, offset: number, allowNonGlobal = false): boolean {
  return isGlobalEndpoint4(teredoMappedAddrAt(addr, offset), teredoMappedPortAt(addr, offset), allowNonGlobal);
}

/** 2001:0:<server>::, the /64 prefix of a server's clients (§4), as a new 16-byte address. */
export function teredoPrefix(server: number): Uint8Array {
  const prefix = new Uint8Array(16);
  prefix.set(TEREDO_PREFIX.subarray(0, 4), 0);
  ipv4ToBytes(server, prefix, 4);
  return prefix;
}

/** Decodes a Teredo address; WireError WIRE_BAD_ADDRESS when it is outside 2001:0::/32. */
export function decodeTeredoAddress(addr: Uint8Array, offset = 0): TeredoAddress {
  wireAssert(addr.length - offset >= 16, 'WIRE_TRUNCATED', 'Teredo address: need 16 bytes');
  if (!isTeredo(addr, offset)) throw new WireError('WIRE_BAD_ADDRESS', 'not a Teredo address (outside 2001:0::/32)');
  const flags = teredoFlagsAt(addr, offset);
  return {
    server: teredoServerAt(addr, offset),
    flags,
    cone: (flags & TEREDO_FLAG_CONE) !== 0,
    randomBits: teredoRandomBits(flags),
    mappedPort: teredoMappedPortAt(addr, offset),
    mappedAddr: teredoMappedAddrAt(addr, offset),
  };
}

/** Encodes a Teredo address into `out` at `offset` (a new 16-byte array by default); returns the 16-byte view. */
export function encodeTeredoAddress(a: TeredoAddressInit, out: Uint8Array = new Uint8Array(16), offset = 0): Uint8Array {
  checkIpv4(a.server, 'server');
  out.set(TEREDO_PREFIX.subarray(0, 4), offset);
  ipv4ToBytes(a.server, out, offset + 4);
  writeInterfaceId(a, out, offset + 8);
  return out.subarray(offset, offset + 16);
}

/**
 * A link-local address fe80::/64 with a Teredo-format interface identifier (RFC 4380 §4: link-local Teredo
 * addresses use the same 64-bit identifier, possibly embedding a private IPv4 address).
 */
export function teredoLinkLocal(id: TeredoInterfaceId): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xfe;
  out[1] = 0x80;
  writeInterfaceId(id, out, 8);
  return out;
}

/**
 * RFC 4380 §5.3.2: the source of a server's Router Advertisement, fe80::8000:f227:<~server IPv4>: cone bit set,
 * port 3544 and the server's own IPv4 address, obfuscated like any mapping (Windows Vista checks this).
 */
export function teredoServerLinkLocal(serverIpv4: number): Uint8Array {
  return teredoLinkLocal({ cone: true, mappedPort: TEREDO_PORT, mappedAddr: serverIpv4 });
}

/**
 * The Router Solicitation source of Windows Vista and later clients, fe80::ffff:ffff:ffff: flags 0 and an
 * all-zero mapping, obfuscated (the client does not know its mapping yet). Miredo uses it too.
 */
export const TEREDO_CLIENT_LINK_LOCAL: Uint8Array = teredoLinkLocal({ mappedPort: 0, mappedAddr: 0 });

/**
 * The cone-bit RS source of Windows XP clients, fe80::8000:5445:5245:444f: cone flag, then "TEREDO" in ASCII
 * in place of a mapping. A server only looks at its cone bit (RFC 4380 §5.3.2).
 */
export const TEREDO_CLIENT_LINK_LOCAL_CONE: Uint8Array = Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x80, 0x00, 0x54, 0x45, 0x52, 0x45, 0x44, 0x4f);

function writeInterfaceId(id: TeredoInterfaceId, out: Uint8Array, offset: number): void {
  const flags = resolveFlags(id);
  wireAssert(Number.isInteger(id.mappedPort) && id.mappedPort >= 0 && id.mappedPort <= 0xffff, 'WIRE_BAD_VALUE', `Teredo mapped port must be 0..65535, got ${id.mappedPort}`);
  checkIpv4(id.mappedAddr, 'mapped IPv4');
  out[offset] = flags >>> 8;
  out[offset + 1] = flags & 0xff;
  const port = id.mappedPort ^ 0xffff;
  out[offset + 2] = port >>> 8;
  out[offset + 3] = port & 0xff;
  ipv4ToBytes(~id.mappedAddr, out, offset + 4);
}

function resolveFlags(id: TeredoInterfaceId): number {
  if (id.flags === undefined) return teredoFlags(id);
  const flags = id.flags;
  wireAssert(Number.isInteger(flags) && flags >= 0 && flags <= 0xffff, 'WIRE_BAD_VALUE', `Teredo flags must be 0..0xffff, got ${flags}`);
  wireAssert(id.cone === undefined || id.cone === ((flags & TEREDO_FLAG_CONE) !== 0), 'WIRE_BAD_VALUE', 'Teredo flags and cone disagree');
  wireAssert(id.randomBits === undefined || id.randomBits === teredoRandomBits(flags), 'WIRE_BAD_VALUE', 'Teredo flags and randomBits disagree');
  return flags;
}

function checkIpv4(v: number, what: string): void {
  wireAssert(isIpv4Number(v), 'WIRE_BAD_VALUE', `Teredo ${what} must be a 32-bit IPv4 address, got ${v}`);
}
