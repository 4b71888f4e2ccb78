// ICMPv6 Destination Unreachable (RFC 4443 §3.1, code 3 "address unreachable") from the relay to a native host
// whose packet cannot reach a Teredo peer (§5.4.1: the peer never answered its bubbles), rate-limited (RFC 4443
// §2.4 f; Miredo: 10 per second). Built in a scratch buffer the relay owns: nothing is allocated per error.
//
// No error answers an ICMPv6 error, a packet to a multicast address, or a packet from an unspecified,
// multicast or link-local source (RFC 4443 §2.4 e; a link-local source is not reachable from the relay's
// native side anyway).

import { onesSumRange } from '../../wire/checksum.js';
import { isLinkLocal6, isMulticast6, isUnspecified6 } from '../../wire/ipv6-address.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../wire/ipv6.js';
import type { Millis } from '../types.js';

const ICMPV6_DST_UNREACHABLE = 1;
const CODE_ADDRESS_UNREACHABLE = 3;
const ERROR_HEADER = 8;
/** RFC 4443 §2.4 c: the error, invoking packet included, fits the IPv6 minimum MTU. */
const MAX_ERROR_PACKET = 1280;
const HOP_LIMIT = 64;

export class Icmpv6Errors {
  readonly #source: Uint8Array | undefined;
  readonly #perSecond: number;
  readonly #out = new Uint8Array(MAX_ERROR_PACKET);
  #windowStart = -Infinity;
  #left = 0;

  /** `source`: 16-byte source address, or undefined to send none; `perSecond`: the rate limit (0 = none sent). */
  constructor(source: Uint8Array | undefined, perSecond: number) {
    this.#source = source === undefined ? undefined : Uint8Array.from(source);
    this.#perSecond = perSecond;
  }

  /**
   * The unreachable error for the IPv6 packet data[offset .. offset + length), in the relay's scratch buffer
   * (`packet`, valid until the next call): returns its length, 0 when no error is due (no source configured,
   * or RFC 4443 §2.4 e forbids one), -1 when the rate limit refuses it.
   */
  build(data: Uint8Array, offset: number, length: number, now: Millis): number {
    const src = this.#source;
    if (src === undefined || length < IPV6_HEADER_LEN) return 0;
    const from = offset + IPV6_FIELD.SRC;
    if (isMulticast6(data, offset + IPV6_FIELD.DST) || isMulticast6(data, from) || isUnspecified6(data, from) || isLinkLocal6(data, from)) return 0;
    if (data[offset + IPV6_FIELD.NEXT_HEADER] === NEXT_HEADER.ICMPV6 && length > IPV6_HEADER_LEN && data[offset + IPV6_HEADER_LEN]! < 128) return 0;
    if (!this.#allow(now)) return -1;
    const out = this.#out;
    const invoking = Math.min(length, MAX_ERROR_PACKET - IPV6_HEADER_LEN - ERROR_HEADER);
    const icmpLength = ERROR_HEADER + invoking;
    out[0] = 0x60;
    out[1] = 0;
    out[2] = 0;
    out[3] = 0;
    out[4] = icmpLength >>> 8;
    out[5] = icmpLength & 0xff;
    out[6] = NEXT_HEADER.ICMPV6;
    out[7] = HOP_LIMIT;
    out.set(src, IPV6_FIELD.SRC);
    for (let i = 0; i < 16; i++) out[IPV6_FIELD.DST + i] = data[from + i]!;
    const m = IPV6_HEADER_LEN;
    out[m] = ICMPV6_DST_UNREACHABLE;
    out[m + 1] = CODE_ADDRESS_UNREACHABLE;
    out[m + 2] = 0;
    out[m + 3] = 0;
    out[m + 4] = 0;
    out[m + 5] = 0;
    out[m + 6] = 0;
    out[m + 7] = 0;
    for (let i = 0; i < invoking; i++) out[m + ERROR_HEADER + i] = data[offset + i]!;
    // RFC 8200 §8.1 pseudo-header: both addresses, upper-layer length, next header; then the message.
    let sum = onesSumRange(out, IPV6_FIELD.SRC, IPV6_HEADER_LEN);
    sum += icmpLength + NEXT_HEADER.ICMPV6;
    sum = onesSumRange(out, m, m + icmpLength, sum);
    const checksum = ~sum & 0xffff;
    out[m + 2] = checksum >>> 8;
    out[m + 3] = checksum & 0xff;
    return IPV6_HEADER_LEN + icmpLength;
  }

  /** The buffer build() wrote into. */
  get packet(): Uint8Array {
    return this.#out;
  }

  // Per 1-second window, like Miredo: at most perSecond errors in each.
  #allow(now: Millis): boolean {
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#left = this.#perSecond;
    }
    if (this.#left === 0) return false;
    this.#left--;
    return true;
  }
}
