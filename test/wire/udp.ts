// UDP header codec (RFC 768) with the IPv6 pseudo-header checksum (RFC 8200 §8.1), for the tests: the product
// never builds or parses a UDP header itself (its UDP goes through kernel sockets); the IP fuzz tests use this
// codec to build and check UDP inside IPv6.
//
// Over IPv6 the checksum is mandatory: a sender that computes 0 transmits 0xffff instead (RFC 768, RFC 8200
// §8.1), and a receiver discards a datagram whose checksum field is 0. The zero-checksum exemption for tunnels
// (RFC 6935/6936) is not supported, so verifying rejects 0. Jumbograms (UDP length 0, RFC 2675) are not supported.
// Bytes after the UDP Length are ignored (the surplus area that UDP options use, draft-ietf-tsvwg-udp-options).

import { ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { WireError } from '../../src/wire/errors.js';
import { NEXT_HEADER, type Ipv6AddressPair } from '../../src/wire/ipv6.js';

export const UDP_HEADER_LEN = 8;

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
}

export interface DecodedUdp {
  header: UdpHeader;
  /** The Length field: header plus payload. */
  length: number;
  /** The checksum field as received. */
  checksum: number;
  /** A view of the `length - 8` payload bytes. */
  payload: Uint8Array;
}

/**
 * Decodes a UDP datagram. With `addrs`, also verifies the checksum over the IPv6 pseudo-header and throws
 * WIRE_BAD_CHECKSUM on mismatch or on a zero checksum. Throws WIRE_TRUNCATED or WIRE_BAD_LENGTH otherwise.
 */
export function decodeUdp(bytes: Uint8Array, addrs?: Ipv6AddressPair): DecodedUdp {
  if (bytes.length < UDP_HEADER_LEN) {
    throw new WireError('WIRE_TRUNCATED', `udp: ${bytes.length} bytes, header needs ${UDP_HEADER_LEN}`);
  }
  const length = (bytes[4]! << 8) | bytes[5]!;
  if (length < UDP_HEADER_LEN) throw new WireError('WIRE_BAD_LENGTH', `udp: length field ${length} is shorter than the header`);
  if (length > bytes.length) throw new WireError('WIRE_TRUNCATED', `udp: length field ${length} but only ${bytes.length} bytes`);
  const checksum = (bytes[6]! << 8) | bytes[7]!;
  if (addrs !== undefined) {
    if (checksum === 0) throw new WireError('WIRE_BAD_CHECKSUM', 'udp: zero checksum is not allowed over IPv6');
    // Summing a datagram that carries its correct checksum gives 0xffff, whose complement is 0.
    if (ipv6UpperChecksum(addrs.src, addrs.dst, NEXT_HEADER.UDP, bytes.subarray(0, length)) !== 0) {
      throw new WireError('WIRE_BAD_CHECKSUM', `udp: checksum 0x${checksum.toString(16).padStart(4, '0')} does not verify`);
    }
  }
  return {
    header: { srcPort: (bytes[0]! << 8) | bytes[1]!, dstPort: (bytes[2]! << 8) | bytes[3]! },
    length,
    checksum,
    payload: bytes.subarray(UDP_HEADER_LEN, length),
  };
}

export function udpEncodedLength(payloadLength: number): number {
  return UDP_HEADER_LEN + payloadLength;
}

/** The checksum to put in the header of `datagram` (whose checksum field must be zero), never 0. */
export function udpChecksum(datagram: Uint8Array, addrs: Ipv6AddressPair): number {
  const sum = ipv6UpperChecksum(addrs.src, addrs.dst, NEXT_HEADER.UDP, datagram);
  // RFC 768 / RFC 8200 §8.1: a computed 0 is sent as all ones (0 means "no checksum", forbidden over IPv6).
  return sum === 0 ? 0xffff : sum;
}

/**
 * Writes header + payload at `out[offset]` (allocating `out` when omitted), fills the checksum for `addrs`, and
 * returns a view of exactly the bytes written. Throws WIRE_BAD_VALUE for a bad port or an oversized payload.
 */
export function encodeUdp(header: UdpHeader, payload: Uint8Array, addrs: Ipv6AddressPair, out?: Uint8Array, offset = 0): Uint8Array {
  const len = udpEncodedLength(payload.length);
  checkUint(header.srcPort, 'source port');
  checkUint(header.dstPort, 'destination port');
  checkUint(len, 'length');
  if (addrs.src.length !== 16 || addrs.dst.length !== 16) throw new WireError('WIRE_BAD_VALUE', 'udp: addresses must be 16 bytes');
  const buf = out ?? new Uint8Array(offset + len);
  if (offset < 0 || offset + len > buf.length) throw new RangeError('udp: output buffer too small');
  buf[offset] = header.srcPort >> 8;
  buf[offset + 1] = header.srcPort & 0xff;
  buf[offset + 2] = header.dstPort >> 8;
  buf[offset + 3] = header.dstPort & 0xff;
  buf[offset + 4] = len >> 8;
  buf[offset + 5] = len & 0xff;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
  buf.set(payload, offset + UDP_HEADER_LEN);
  const datagram = buf.subarray(offset, offset + len);
  const sum = udpChecksum(datagram, addrs);
  buf[offset + 6] = sum >> 8;
  buf[offset + 7] = sum & 0xff;
  return datagram;
}

function checkUint(v: number, what: string): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffff)) throw new WireError('WIRE_BAD_VALUE', `udp: ${what} ${v} not in 0..65535`);
}
