// RFC 6081 §4 trailers: type-length-value options after the IPv6 packet in a Teredo datagram's UDP payload.
//
//   | IPv6 packet (40 + payload length) | Type (1) | Length (1) | Value (Length bytes) | Type | Length | ...
//
// Length counts the value only (the bytes after the Length field). The types (§4.2-§4.5; the same layouts are
// [MS-TERE] 2.2.1-2.2.4, Microsoft's text of the extensions):
//   0x01 Nonce                      length 4: a 32-bit random nonce
//   0x03 Alternate Address          length 8, 14, 20 or 26 (SHOULD be at most 14: one local address and one from
//                                   UPnP): 2 reserved bytes (sent 0, ignored on receipt), then 1-4 entries of an
//                                   IPv4 address (4 bytes, "a valid unicast address") and a port (2 bytes, "MUST
//                                   NOT be zero"), network byte order; only in bubbles (the Hairpinning Extension).
//                                   The entries' own checks are the user's (client-hairpin.ts)
//   0x04 Neighbor Discovery Option  length 1: 0 = TeredoDiscoverySolicitation, 1 = TeredoDiscoveryAdvertisement
//   0x05 Random Port                length 2: a port, network byte order
// A receiver ignores trailers of unknown types (RFC 4380 peers, Miredo among them, ignore all of them: they read
// the IPv6 packet by its payload length). A known type with another length is ignored too, as if unknown. A
// trailer whose length runs past the datagram ends the walk: what came before it still counts (`truncated`).
//
// Two interfaces: readTrailers() fills a reusable TeredoTrailers view (offsets into the lent datagram, nothing
// allocated: the data path's), the write*Trailer functions write into a caller's buffer and return the offset
// after what they wrote; decodeTrailers()/encodeTrailers() build and take plain objects (tests, tools).

import { wireAssert } from './errors.js';

/** RFC 6081 §4.2-§4.5 trailer types. */
export const TRAILER_TYPE = {
  NONCE: 0x01,
  ALTERNATE_ADDRESS: 0x03,
  NEIGHBOR_DISCOVERY: 0x04,
  RANDOM_PORT: 0x05,
} as const;

/** RFC 6081 §4.4: the Neighbor Discovery Option trailer's DiscoveryType. */
export const DISCOVERY_TYPE = { SOLICITATION: 0, ADVERTISEMENT: 1 } as const;

/** RFC 6081 §4.3: at most 4 alternate address/port entries (length 26). */
export const ALTERNATE_ADDRESS_MAX = 4;
const ALTERNATE_ENTRY_LEN = 6;
const ALTERNATE_RESERVED_LEN = 2;

/** What readTrailers found; each field -1 / 0 when its trailer is absent. The first trailer of a type wins. */
export class TeredoTrailers {
  data: Uint8Array = new Uint8Array(0);
  /** The Nonce trailer's value, unsigned 32-bit; meaningful when hasNonce. */
  nonce = 0;
  hasNonce = false;
  /** Offset in data of the first Alternate Address entry, and how many entries (0 = none). */
  alternateOffset = -1;
  alternateCount = 0;
  /** DiscoveryType of the Neighbor Discovery Option trailer, or -1. */
  discoveryType = -1;
  /** The Random Port trailer's port, or -1. */
  randomPort = -1;
  /** Unknown trailers (and known types with a wrong length) skipped. */
  unknown = 0;
  /** A trailer ran past the end of the datagram: the walk stopped there. */
  truncated = false;

  /** Entry `i` (< alternateCount) of the Alternate Address trailer: IPv4 address as an unsigned 32-bit int. */
  alternateAddr(i: number): number {
    const d = this.data;
    const at = this.alternateOffset + i * ALTERNATE_ENTRY_LEN;
    return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  }

  /** Entry `i`'s port. */
  alternatePort(i: number): number {
    const at = this.alternateOffset + i * ALTERNATE_ENTRY_LEN + 4;
    return (this.data[at]! << 8) | this.data[at + 1]!;
  }

  /** True when any trailer this module knows was found. */
  get any(): boolean {
    return this.hasNonce || this.alternateCount > 0 || this.discoveryType >= 0 || this.randomPort >= 0;
  }
}

/** Walks the trailers in data[offset .. end) into `out` (reset first). Never throws, allocates nothing. */
export function readTrailers(out: TeredoTrailers, data: Uint8Array, offset: number, end: number): void {
  out.data = data;
  out.hasNonce = false;
  out.nonce = 0;
  out.alternateOffset = -1;
  out.alternateCount = 0;
  out.discoveryType = -1;
  out.randomPort = -1;
  out.unknown = 0;
  out.truncated = false;
  let at = offset;
  while (at < end) {
    if (at + 2 > end || at + 2 + data[at + 1]! > end) {
      out.truncated = true;
      return;
    }
    const type = data[at]!;
    const len = data[at + 1]!;
    const v = at + 2;
    if (type === TRAILER_TYPE.NONCE && len === 4) {
      if (!out.hasNonce) {
        out.hasNonce = true;
        out.nonce = ((data[v]! << 24) | (data[v + 1]! << 16) | (data[v + 2]! << 8) | data[v + 3]!) >>> 0;
      }
    } else if (type === TRAILER_TYPE.ALTERNATE_ADDRESS && isAlternateLength(len)) {
      if (out.alternateCount === 0) {
        out.alternateOffset = v + ALTERNATE_RESERVED_LEN;
        out.alternateCount = (len - ALTERNATE_RESERVED_LEN) / ALTERNATE_ENTRY_LEN;
      }
    } else if (type === TRAILER_TYPE.NEIGHBOR_DISCOVERY && len === 1) {
      if (out.discoveryType < 0) out.discoveryType = data[v]!;
    } else if (type === TRAILER_TYPE.RANDOM_PORT && len === 2) {
      if (out.randomPort < 0) out.randomPort = (data[v]! << 8) | data[v + 1]!;
    } else out.unknown++;
    at = v + len;
  }
}

function isAlternateLength(len: number): boolean {
  const entries = (len - ALTERNATE_RESERVED_LEN) / ALTERNATE_ENTRY_LEN;
  return Number.isInteger(entries) && entries >= 1 && entries <= ALTERNATE_ADDRESS_MAX;
}

/** §4.2: writes a Nonce trailer (6 bytes) at out[offset]; returns the offset after it. */
export function writeNonceTrailer(out: Uint8Array, offset: number, nonce: number): number {
  out[offset] = TRAILER_TYPE.NONCE;
  out[offset + 1] = 4;
  out[offset + 2] = nonce >>> 24;
  out[offset + 3] = (nonce >>> 16) & 0xff;
  out[offset + 4] = (nonce >>> 8) & 0xff;
  out[offset + 5] = nonce & 0xff;
  return offset + 6;
}

/**
 * §4.3: writes an Alternate Address trailer with entries (addrs[i], ports[i]) for i < count (1..4) at
 * out[offset]; returns the offset after it (offset + 4 + 6 x count).
 */
export function writeAlternateAddressTrailer(out: Uint8Array, offset: number, addrs: ArrayLike<number>, ports: ArrayLike<number>, count: number): number {
  out[offset] = TRAILER_TYPE.ALTERNATE_ADDRESS;
  out[offset + 1] = ALTERNATE_RESERVED_LEN + ALTERNATE_ENTRY_LEN * count;
  out[offset + 2] = 0;
  out[offset + 3] = 0;
  let at = offset + 4;
  for (let i = 0; i < count; i++) {
    const a = addrs[i]!;
    out[at] = a >>> 24;
    out[at + 1] = (a >>> 16) & 0xff;
    out[at + 2] = (a >>> 8) & 0xff;
    out[at + 3] = a & 0xff;
    out[at + 4] = ports[i]! >>> 8;
    out[at + 5] = ports[i]! & 0xff;
    at += ALTERNATE_ENTRY_LEN;
  }
  return at;
}

/** §4.4: writes a Neighbor Discovery Option trailer (3 bytes) with `discoveryType`; returns the offset after it. */
export function writeNeighborDiscoveryTrailer(out: Uint8Array, offset: number, discoveryType: number): number {
  out[offset] = TRAILER_TYPE.NEIGHBOR_DISCOVERY;
  out[offset + 1] = 1;
  out[offset + 2] = discoveryType;
  return offset + 3;
}

/** §4.5: writes a Random Port trailer (4 bytes) with `port`; returns the offset after it. */
export function writeRandomPortTrailer(out: Uint8Array, offset: number, port: number): number {
  out[offset] = TRAILER_TYPE.RANDOM_PORT;
  out[offset + 1] = 2;
  out[offset + 2] = port >>> 8;
  out[offset + 3] = port & 0xff;
  return offset + 4;
}

/** A trailer as a plain object (decodeTrailers / encodeTrailers). */
export type Trailer =
  | { readonly kind: 'nonce'; readonly nonce: number }
  | { readonly kind: 'alternate-address'; readonly entries: readonly { readonly addr: number; readonly port: number }[] }
  | { readonly kind: 'neighbor-discovery'; readonly discoveryType: number }
  | { readonly kind: 'random-port'; readonly port: number };

/** The trailers in `bytes` this module knows, in the order readTrailers keeps them (one of each kind). */
export function decodeTrailers(bytes: Uint8Array): Trailer[] {
  const t = new TeredoTrailers();
  readTrailers(t, bytes, 0, bytes.length);
  const out: Trailer[] = [];
  if (t.hasNonce) out.push({ kind: 'nonce', nonce: t.nonce });
  if (t.alternateCount > 0) {
    const entries = [];
    for (let i = 0; i < t.alternateCount; i++) entries.push({ addr: t.alternateAddr(i), port: t.alternatePort(i) });
    out.push({ kind: 'alternate-address', entries });
  }
  if (t.discoveryType >= 0) out.push({ kind: 'neighbor-discovery', discoveryType: t.discoveryType });
  if (t.randomPort >= 0) out.push({ kind: 'random-port', port: t.randomPort });
  return out;
}

/** The bytes of `trailers`, in order. Throws WIRE_BAD_VALUE for an Alternate Address trailer without 1-4 entries. */
export function encodeTrailers(trailers: readonly Trailer[]): Uint8Array {
  for (const t of trailers) {
    if (t.kind === 'alternate-address') wireAssert(t.entries.length >= 1 && t.entries.length <= ALTERNATE_ADDRESS_MAX, 'WIRE_BAD_VALUE', 'an Alternate Address trailer holds 1 to 4 entries (RFC 6081 §4.3)');
  }
  const out = new Uint8Array(trailers.length * (4 + ALTERNATE_ENTRY_LEN * ALTERNATE_ADDRESS_MAX));
  let at = 0;
  for (const t of trailers) {
    if (t.kind === 'nonce') at = writeNonceTrailer(out, at, t.nonce);
    else if (t.kind === 'alternate-address') at = writeAlternateAddressTrailer(out, at, t.entries.map((e) => e.addr), t.entries.map((e) => e.port), t.entries.length);
    else if (t.kind === 'neighbor-discovery') at = writeNeighborDiscoveryTrailer(out, at, t.discoveryType);
    else at = writeRandomPortTrailer(out, at, t.port);
  }
  return out.slice(0, at);
}
