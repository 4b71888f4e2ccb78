// IPv6 addresses as 16-byte Uint8Arrays: parse (RFC 4291 §2.2 text forms) and format (RFC 5952 canonical form).

import { WireError } from './errors.js';

export type Ipv6Bytes = Uint8Array; // always length 16

/** Parses any RFC 4291 §2.2 text form, including an embedded dotted IPv4 tail. No zone ids. */
export function parseIpv6(text: string): Ipv6Bytes {
  const bad = (): never => {
    throw new WireError('WIRE_BAD_ADDRESS', `not an IPv6 address: ${JSON.stringify(text)}`);
  };
  if (text.length === 0 || text.length > 45) bad();
  let s = text;
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = s.slice(lastColon + 1).split('.');
    if (v4.length !== 4) bad();
    for (const part of v4) {
      if (!/^\d{1,3}$/.test(part) || Number(part) > 255) bad();
      tail.push(Number(part));
    }
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) bad();
  const parseGroups = (h: string): number[] => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad())));
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  const groups = halves.length === 2 ? [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (groups.length !== 8 || (halves.length === 2 && head.length + rest.length > 7)) bad();
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  if (tail.length === 4) out.set(tail, 12);
  return out;
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::", first if tied. */
export function formatIpv6(b: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[offset + 2 * i]! << 8) | b[offset + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = g.map((x) => x.toString(16));
  if (bestStart < 0) return hexes.join(':');
  return `${hexes.slice(0, bestStart).join(':')}::${hexes.slice(bestStart + bestLen).join(':')}`;
}

/** True when the 16 bytes of `a` at `aOffset` equal those of `b` at `bOffset` (no allocation: data path). */
export function ipv6Equal(a: Uint8Array, b: Uint8Array, aOffset = 0, bOffset = 0): boolean {
  for (let i = 0; i < 16; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

/**
 * The IPv6 source and destination (32 bytes) of the header whose source is at data[a] equal those of the one whose
 * source is at data[b]: what the segments of a superframe share (the engines' batch inputs).
 */
export function ipv6AddressesEqual(data: Uint8Array, a: number, b: number): boolean {
  return ipv6Equal(data, data, a, b) && ipv6Equal(data, data, a + 16, b + 16);
}

/** fe80::/10 (RFC 4291 §2.5.6), for the address at `offset`. */
export function isLinkLocal6(a: Uint8Array, offset = 0): boolean {
  return a[offset] === 0xfe && (a[offset + 1]! & 0xc0) === 0x80;
}

/** ff00::/8 (RFC 4291 §2.7), for the address at `offset`. */
export function isMulticast6(a: Uint8Array, offset = 0): boolean {
  return a[offset] === 0xff;
}

/** :: (RFC 4291 §2.5.2), for the address at `offset`. */
export function isUnspecified6(a: Uint8Array, offset = 0): boolean {
  for (let i = 0; i < 16; i++) if (a[offset + i] !== 0) return false;
  return true;
}

/**
 * RFC 4291 §2.4: may a packet to (or from) this address be forwarded? Not the unspecified or loopback address,
 * not link-local (fe80::/10), not multicast; also not deprecated site-local (fec0::/10, RFC 3879) and not
 * IPv4-mapped (::ffff:0:0/96, never valid on the wire). Miredo tests the first four. Reads 16 bytes at `offset`.
 */
export function isGlobalUnicast6(a: Uint8Array, offset = 0): boolean {
  if (isMulticast6(a, offset) || isLinkLocal6(a, offset)) return false;
  if (a[offset] === 0xfe && (a[offset + 1]! & 0xc0) === 0xc0) return false;
  for (let i = 0; i < 10; i++) if (a[offset + i] !== 0) return true;
  if (a[offset + 10] === 0xff && a[offset + 11] === 0xff) return false;
  for (let i = 10; i < 15; i++) if (a[offset + i] !== 0) return true;
  return a[offset + 15]! > 1; // :: and ::1
}

/** True when the first `len` bits of `a` equal those of `prefix`. */
export function inPrefix6(a: Uint8Array, prefix: Uint8Array, len: number): boolean {
  const whole = len >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== prefix[i]) return false;
  const bits = len & 7;
  if (bits === 0) return true;
  const mask = (0xff << (8 - bits)) & 0xff;
  return ((a[whole]! ^ prefix[whole]!) & mask) === 0;
}

export const ALL_NODES = parseIpv6('ff02::1');
export const ALL_ROUTERS = parseIpv6('ff02::2');
export const UNSPECIFIED6 = new Uint8Array(16);
