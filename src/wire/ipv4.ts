// IPv4 addresses as unsigned 32-bit integers, and the classification Teredo's checks use.

import { WireError } from './errors.js';

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new WireError('WIRE_BAD_ADDRESS', `not an IPv4 address: ${JSON.stringify(text)}`);
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new WireError('WIRE_BAD_ADDRESS', `not an IPv4 address: ${JSON.stringify(text)}`);
    v = v * 256 + Number(p);
  }
  return v >>> 0;
}

export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** Writes `v` big-endian into `out` at `offset` (a new 4-byte array by default); returns the 4-byte view. */
export function ipv4ToBytes(v: number, out: Uint8Array = new Uint8Array(4), offset = 0): Uint8Array {
  out[offset] = v >>> 24;
  out[offset + 1] = (v >>> 16) & 0xff;
  out[offset + 2] = (v >>> 8) & 0xff;
  out[offset + 3] = v & 0xff;
  return out.subarray(offset, offset + 4);
}

export function ipv4FromBytes(b: Uint8Array, offset = 0): number {
  return ((b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!) >>> 0;
}

const cidr = (text: string): [number, number] => {
  const [a, l] = text.split('/');
  const len = Number(l);
  return [parseIpv4(a!), len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0];
};

/**
 * RFC 4380 §5.2.4: addresses a Teredo node must treat as "not global unicast", plus 240.0.0.0/4 (reserved,
 * RFC 6890; no host has such an address, so a mapping embedding one is forged; Miredo accepts it). Like Miredo
 * we do not list RFC 6598 100.64.0.0/10 (clients behind carrier NAT); directed broadcasts of attached
 * subnets need interface knowledge and are checked by callers that have it. Kept as two typed arrays so the
 * per-packet test is a tight loop with no destructuring.
 */
const NON_GLOBAL_RFC4380 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '192.88.99.0/24', // 6to4 relay anycast
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the limited broadcast 255.255.255.255
].map(cidr);
const NON_GLOBAL_NET = Uint32Array.from(NON_GLOBAL_RFC4380, ([net]) => net);
const NON_GLOBAL_MASK = Uint32Array.from(NON_GLOBAL_RFC4380, ([, mask]) => mask);

/** RFC 4380 §5.2.4 global unicast (see above); `v` is a uint32. Allocation-free. */
export function isGlobalUnicast4(v: number): boolean {
  for (let i = 0; i < NON_GLOBAL_NET.length; i++) if ((v & NON_GLOBAL_MASK[i]!) >>> 0 === NON_GLOBAL_NET[i]) return false;
  return true;
}

/**
 * Any unicast IPv4 address (the relaxed test of --allow-non-global in labs). Refused: 0.0.0.0/8 ("this
 * network"), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved) and the limited broadcast.
 */
export function isUnicast4(addr: number): boolean {
  const first = addr >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}
