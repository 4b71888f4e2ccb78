// The data-path twin of teredo-packet.ts's decoder: checks one received Teredo UDP payload (RFC 4380 §5.1.1)
// and records where its parts are, without throwing and without allocating. A server, client or relay keeps
// one TeredoPacketView and refills it for every datagram; the codec (decodeTeredoPayload) stays for tools,
// tests and control-plane code, where a WireError with a message is worth its cost. A flood of junk then
// costs a few comparisons per datagram instead of an Error with a captured stack.
//
//   [auth 00 01 | idLen | auLen | id | value | nonce(8) | conf] [origin 00 00 | ~port | ~IPv4] IPv6 [trailer]
//    authOffset                              nonceOffset         originOffset                  ipv6Offset
//
// Validity is the same as the codec's: auth first, then origin, then version 6 with 40 + payload length
// within the datagram; the bytes after the IPv6 packet are RFC 6081 trailers, never an error.
//
// The two things engines write in place live here too, beside their readers: the origin indication (the server
// inserts it, the client reads it) and the bubble (the client and the relay send them).

import { ipv4FromBytes } from './ipv4.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from './ipv6.js';
import { TEREDO_AUTH_MIN_LEN, TEREDO_ORIGIN_LEN } from './teredo-packet.js';

/** Why checkTeredoPayload refused a datagram (negative, so a result >= 0 is the IPv6 offset). */
export const TEREDO_CHECK = {
  /** An authentication header (00 01) whose lengths run past the datagram. */
  AUTH_TRUNCATED: -1,
  /** An origin indication (00 00) cut short. */
  ORIGIN_TRUNCATED: -2,
  /** Fewer than 40 bytes left for the IPv6 header, or a version other than 6. */
  NOT_IPV6: -3,
  /** 40 + the IPv6 payload length exceeds what the datagram holds. */
  IPV6_TRUNCATED: -4,
} as const;

const EMPTY = new Uint8Array(0);

/** Where the parts of the last checked datagram lie in `data` (absolute offsets); -1 for an absent header. */
export class TeredoPacketView {
  data: Uint8Array = EMPTY;
  authOffset = -1;
  /** The 8-byte nonce inside the authentication header, -1 without one. */
  nonceOffset = -1;
  originOffset = -1;
  ipv6Offset = 0;
  /** 40 + payload length: exactly one IPv6 packet. */
  ipv6Length = 0;
  /** End of the datagram: bytes from ipv6Offset + ipv6Length to end are RFC 6081 trailers. */
  end = 0;

  /** Offset of the IPv6 source address. */
  get srcOffset(): number {
    return this.ipv6Offset + IPV6_FIELD.SRC;
  }

  /** Offset of the IPv6 destination address. */
  get dstOffset(): number {
    return this.ipv6Offset + IPV6_FIELD.DST;
  }

  get nextHeader(): number {
    return this.data[this.ipv6Offset + IPV6_FIELD.NEXT_HEADER]!;
  }

  get hopLimit(): number {
    return this.data[this.ipv6Offset + IPV6_FIELD.HOP_LIMIT]!;
  }

  /** IPv6 payload length (ipv6Length - 40). */
  get payloadLength(): number {
    return this.ipv6Length - IPV6_HEADER_LEN;
  }

  /** Offset of the IPv6 payload (e.g. the ICMPv6 type byte). */
  get payloadOffset(): number {
    return this.ipv6Offset + IPV6_HEADER_LEN;
  }

  /** RFC 4380 §2.8: Next Header 59 and payload length 0. */
  get isBubble(): boolean {
    return this.ipv6Length === IPV6_HEADER_LEN && this.nextHeader === NEXT_HEADER.NO_NEXT;
  }

  /** The origin indication's port, de-obfuscated (§5.1.1); only when originOffset >= 0. */
  get originPort(): number {
    const o = this.originOffset;
    return ((this.data[o + 2]! << 8) | this.data[o + 3]!) ^ 0xffff;
  }

  /** The origin indication's IPv4 address (int32, wire/ipv4.ts), de-obfuscated (§5.1.1); only when originOffset >= 0. */
  get originAddr(): number {
    return ~ipv4FromBytes(this.data, this.originOffset + 4);
  }
}

/**
 * RFC 4380 §5.1.1: writes the 8-byte origin indication for addr:port (int32 or uint32, port) at out[offset]: 00 00, then
 * port and address with every bit inverted. Returns the offset after it. Allocation-free.
 */
export function writeTeredoOrigin(out: Uint8Array, offset: number, addr: number, port: number): number {
  const p = port ^ 0xffff;
  const a = ~addr;
  out[offset] = 0;
  out[offset + 1] = 0;
  out[offset + 2] = p >>> 8;
  out[offset + 3] = p & 0xff;
  out[offset + 4] = (a >>> 24) & 0xff;
  out[offset + 5] = (a >>> 16) & 0xff;
  out[offset + 6] = (a >>> 8) & 0xff;
  out[offset + 7] = a & 0xff;
  return offset + TEREDO_ORIGIN_LEN;
}

/** A bubble is the IPv6 header alone (RFC 4380 §2.8). */
export const TEREDO_BUBBLE_LEN = IPV6_HEADER_LEN;

/**
 * RFC 4380 §2.8: writes a bubble's fixed fields into out[0 .. 40): version 6, traffic class and flow label 0,
 * payload length 0, Next Header 59 (no next header), hop limit 255 (Miredo's, libteredo/packets.c SendBubble).
 * The source (bytes 8-23) and destination (24-39) are left for the sender to fill per bubble.
 */
export function writeBubbleHeader(out: Uint8Array): void {
  out.fill(0, 0, IPV6_FIELD.SRC);
  out[0] = 0x60;
  out[IPV6_FIELD.NEXT_HEADER] = NEXT_HEADER.NO_NEXT;
  out[IPV6_FIELD.HOP_LIMIT] = 255;
}

/**
 * RFC 4380 §5.1.1: checks the Teredo UDP payload data[offset .. offset + length) and fills `view`. Returns the
 * offset of the IPv6 packet (>= 0), or a negative TEREDO_CHECK reason. Never throws, allocates nothing;
 * `view.data` keeps a reference to `data` (lent bytes: valid for the current call only).
 */
export function checkTeredoPayload(view: TeredoPacketView, data: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  let at = offset;
  view.data = data;
  view.end = end;
  view.authOffset = -1;
  view.nonceOffset = -1;
  view.originOffset = -1;
  if (at + 2 <= end && data[at] === 0 && data[at + 1] === 1) {
    if (at + 4 > end) return TEREDO_CHECK.AUTH_TRUNCATED;
    const variable = data[at + 2]! + data[at + 3]!;
    if (at + TEREDO_AUTH_MIN_LEN + variable > end) return TEREDO_CHECK.AUTH_TRUNCATED;
    view.authOffset = at;
    view.nonceOffset = at + 4 + variable;
    at += TEREDO_AUTH_MIN_LEN + variable;
  }
  if (at + 2 <= end && data[at] === 0 && data[at + 1] === 0) {
    if (at + TEREDO_ORIGIN_LEN > end) return TEREDO_CHECK.ORIGIN_TRUNCATED;
    view.originOffset = at;
    at += TEREDO_ORIGIN_LEN;
  }
  if (at + IPV6_HEADER_LEN > end || data[at]! >>> 4 !== 6) return TEREDO_CHECK.NOT_IPV6;
  const ipv6Length = IPV6_HEADER_LEN + ((data[at + IPV6_FIELD.PAYLOAD_LENGTH]! << 8) | data[at + IPV6_FIELD.PAYLOAD_LENGTH + 1]!);
  if (at + ipv6Length > end) return TEREDO_CHECK.IPV6_TRUNCATED;
  view.ipv6Offset = at;
  view.ipv6Length = ipv6Length;
  return at;
}

