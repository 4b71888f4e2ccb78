// IPv4 addresses as int32: the address's 32 bits as a signed integer, so 128.0.0.0 and above are negative
// (198.18.0.10 is -971898870). Why not uint32: V8 keeps an int32 as a small integer, but boxes a number of
// 2^31 or more as a heap number, so a uint32 address of 128.0.0.0 or more would cost an allocation every
// time it crosses a call on the data path. The bits are what matter: compare addresses with ===, masks with
// &, and read octets with >>> (formatIpv4, ipv4ToBytes); never with <, >, or a test like >= 0x80000000.
// Text is the only place a uint32 appears (parseIpv4 and formatIpv4 convert). Functions that take an address
// from outside (encoders, engine parameters) also accept the uint32 form and normalize it with `| 0`.

import { WireError } from './errors.js';

export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new WireError('WIRE_BAD_ADDRESS', `not an IPv4 address: ${JSON.stringify(text)}`);
  let v = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new WireError('WIRE_BAD_ADDRESS', `not an IPv4 address: ${JSON.stringify(text)}`);
    v = v * 256 + Number(p);
  }
  return v | 0;
}

/** True for a number that names an IPv4 address: an int32 (this project's form) or the same bits as a uint32. */
export function isIpv4Number(v: number): boolean {
  return Number.isInteger(v) && v >= -0x8000_0000 && v <= 0xffff_ffff;
}

/** "a.b.c.d" of an int32 (or uint32) address. */
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

/** The int32 address in b[offset .. offset + 4), big-endian. */
export function ipv4FromBytes(b: Uint8Array, offset = 0): number {
  return (b[offset]! << 24) | (b[offset + 1]! << 16) | (b[offset + 2]! << 8) | b[offset + 3]!;
}

const cidr = (text: string): [number, number] => {
  const [a, l] = text.split('/');
  const len = Number(l);
  return [parseIpv4(a!), len === 0 ? 0 : -1 << (32 - len)];
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
const NON_GLOBAL_NET = Int32Array.from(NON_GLOBAL_RFC4380, ([net]) => net);
const NON_GLOBAL_MASK = Int32Array.from(NON_GLOBAL_RFC4380, ([, mask]) => mask);

/** RFC 4380 §5.2.4 global unicast (see above); `v` is an int32 (a uint32 works too: & yields int32). Allocation-free. */
export function isGlobalUnicast4(v: number): boolean {
  for (let i = 0; i < NON_GLOBAL_NET.length; i++) if ((v & NON_GLOBAL_MASK[i]!) === NON_GLOBAL_NET[i]) return false;
  return true;
}

/** RFC 6598's shared address space, 100.64.0.0/10 (`addr` int32): an address behind a carrier's NAT. Allocation-free. */
export function isSharedAddressSpace4(addr: number): boolean {
  return (addr & 0xffc00000) === 0x64400000;
}

/**
 * Any unicast IPv4 address (the relaxed test of --allow-non-global in labs). Refused: 0.0.0.0/8 ("this
 * network"), 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved) and the limited broadcast.
 */
export function isUnicast4(addr: number): boolean {
  const first = addr >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/**
 * RFC 4380 §5.2.4, §7: may a Teredo node send a UDP datagram to addr:port when a packet named it (a UDP source,
 * an origin indication, a server or mapping embedded in a Teredo address)? Yes for a global unicast address
 * (isGlobalUnicast4) and a port other than 0; `allowNonGlobal` (labs on private addresses) relaxes the address
 * to any unicast (isUnicast4). `addr` is an int32. The one check the relay and the client both apply: nothing is
 * ever sent to the host itself, its LAN, a multicast group or a broadcast because a stranger said so.
 * Allocation-free.
 */
export function isGlobalEndpoint4(addr: number, port: number, allowNonGlobal = false): boolean {
  return port !== 0 && (allowNonGlobal ? isUnicast4(addr) : isGlobalUnicast4(addr));
}
