// IPv6 fixed header codec (RFC 8200 §3). Extension headers are not walked: `nextHeader` is reported as is and
// the payload is handed over untouched.
//
// Decoding is zero-copy: `header.src`, `header.dst`, `payload` and `trailer` are subarray views of the input.
// Bytes after the `payloadLength` bytes of payload are returned as an opaque `trailer` rather than rejected:
// inside Teredo, RFC 6081 trailers ride after the IPv6 packet in the same UDP payload, and Miredo's own
// validity check is only `40 + plen <= udp_len`. Jumbograms (RFC 2675, payload length 0 plus a hop-by-hop
// option) are not supported: a zero payload length means an empty payload, as in a Teredo bubble.

import { WireError } from './errors.js';

export const IPV6_HEADER_LEN = 40;

/** Largest payload the 16-bit Payload Length field can describe (no jumbograms). */
export const IPV6_MAX_PAYLOAD_LEN = 0xffff;

/**
 * data[offset .. offset + length) holds an IPv6 header (version 6) and the payload its Payload Length says; bytes
 * after it are allowed (RFC 6081 trailers, as above). No allocation: data path.
 */
export function ipv6HeaderFits(data: Uint8Array, offset: number, length: number): boolean {
  return length >= IPV6_HEADER_LEN && data[offset]! >>> 4 === 6 && IPV6_HEADER_LEN + ((data[offset + 4]! << 8) | data[offset + 5]!) <= length;
}

/** Byte offsets of the fixed header fields (RFC 8200 §3 diagram). */
export const IPV6_FIELD = {
  VERSION_CLASS_FLOW: 0, // 4 bits version, 8 bits traffic class, 20 bits flow label
  PAYLOAD_LENGTH: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
} as const;

/** IANA protocol numbers seen in the Next Header field. Unknown values pass through as plain numbers. */
export const NEXT_HEADER = {
  HOP_BY_HOP: 0,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NO_NEXT: 59, // Teredo bubbles (RFC 4380 §2.8)
  DEST_OPTS: 60,
} as const;

export type NextHeader = (typeof NEXT_HEADER)[keyof typeof NEXT_HEADER] | number;

export interface Ipv6Header {
  trafficClass: number; // 8 bits
  flowLabel: number; // 20 bits
  nextHeader: NextHeader;
  hopLimit: number;
  src: Uint8Array; // 16 bytes
  dst: Uint8Array; // 16 bytes
}

/** Source and destination, as the IPv6 pseudo-header of UDP and ICMPv6 checksums needs them (RFC 8200 §8.1). */
export interface Ipv6AddressPair {
  src: Uint8Array;
  dst: Uint8Array;
}

export interface DecodedIpv6 {
  header: Ipv6Header;
  /** The Payload Length field, always equal to `payload.length`. */
  payloadLength: number;
  payload: Uint8Array;
  /** Bytes after the payload (RFC 6081 trailers inside Teredo); empty when the input ends with the payload. */
  trailer: Uint8Array;
}

/** Decodes the fixed header at the start of `bytes`. Throws WIRE_TRUNCATED or WIRE_BAD_VERSION. */
export function decodeIpv6(bytes: Uint8Array): DecodedIpv6 {
  if (bytes.length < IPV6_HEADER_LEN) {
    throw new WireError('WIRE_TRUNCATED', `ipv6: ${bytes.length} bytes, header needs ${IPV6_HEADER_LEN}`);
  }
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const version = b0 >> 4;
  if (version !== 6) throw new WireError('WIRE_BAD_VERSION', `ipv6: version ${version}`);
  const payloadLength = (bytes[4]! << 8) | bytes[5]!;
  const end = IPV6_HEADER_LEN + payloadLength;
  if (end > bytes.length) {
    throw new WireError('WIRE_TRUNCATED', `ipv6: payload length ${payloadLength} but only ${bytes.length - IPV6_HEADER_LEN} bytes follow the header`);
  }
  return {
    header: {
      trafficClass: ((b0 & 0x0f) << 4) | (b1 >> 4),
      flowLabel: ((b1 & 0x0f) << 16) | (bytes[2]! << 8) | bytes[3]!,
      nextHeader: bytes[6]!,
      hopLimit: bytes[7]!,
      src: bytes.subarray(IPV6_FIELD.SRC, IPV6_FIELD.SRC + 16),
      dst: bytes.subarray(IPV6_FIELD.DST, IPV6_FIELD.DST + 16),
    },
    payloadLength,
    payload: bytes.subarray(IPV6_HEADER_LEN, end),
    trailer: bytes.subarray(end),
  };
}

export function ipv6EncodedLength(payloadLength: number): number {
  return IPV6_HEADER_LEN + payloadLength;
}

/**
 * Writes only the 40-byte header at `out[offset]`, with `payloadLength` in the length field, and returns the
 * offset just past it. Lets a caller build the payload in place behind the header (one buffer per packet).
 * Throws WIRE_BAD_VALUE for out-of-range fields; RangeError if `out` is too small (a programming error).
 */
export function encodeIpv6Header(header: Ipv6Header, payloadLength: number, out: Uint8Array, offset = 0): number {
  checkUint(header.trafficClass, 0xff, 'traffic class');
  checkUint(header.flowLabel, 0xfffff, 'flow label');
  checkUint(header.nextHeader, 0xff, 'next header');
  checkUint(header.hopLimit, 0xff, 'hop limit');
  checkUint(payloadLength, IPV6_MAX_PAYLOAD_LEN, 'payload length');
  if (header.src.length !== 16 || header.dst.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'ipv6: addresses must be 16 bytes');
  if (offset < 0 || offset + IPV6_HEADER_LEN > out.length) throw new RangeError('ipv6: output buffer too small');
  const { trafficClass: tc, flowLabel: fl } = header;
  out[offset] = 0x60 | (tc >> 4);
  out[offset + 1] = ((tc & 0x0f) << 4) | (fl >> 16);
  out[offset + 2] = (fl >> 8) & 0xff;
  out[offset + 3] = fl & 0xff;
  out[offset + 4] = payloadLength >> 8;
  out[offset + 5] = payloadLength & 0xff;
  out[offset + 6] = header.nextHeader;
  out[offset + 7] = header.hopLimit;
  out.set(header.src, offset + IPV6_FIELD.SRC);
  out.set(header.dst, offset + IPV6_FIELD.DST);
  return offset + IPV6_HEADER_LEN;
}

/**
 * Writes header + payload at `out[offset]` (allocating `out` when omitted) and returns a view of exactly the
 * bytes written. The Payload Length field is taken from `payload.length`.
 */
export function encodeIpv6(header: Ipv6Header, payload: Uint8Array, out?: Uint8Array, offset = 0): Uint8Array {
  const len = ipv6EncodedLength(payload.length);
  const buf = out ?? new Uint8Array(offset + len);
  const at = encodeIpv6Header(header, payload.length, buf, offset);
  if (at + payload.length > buf.length) throw new RangeError('ipv6: output buffer too small');
  buf.set(payload, at);
  return buf.subarray(offset, offset + len);
}

function checkUint(v: number, max: number, what: string): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= max)) throw new WireError('WIRE_BAD_VALUE', `ipv6: ${what} ${v} not in 0..${max}`);
}
