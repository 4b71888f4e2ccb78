// ICMPv6 Destination Unreachable (RFC 4443 §3.1, code 3 "address unreachable") for IPv6 packets a Teredo engine
// could not deliver, written to its TUN device, rate-limited (§2.4 f). The relay answers native hosts whose
// packets cannot reach a Teredo peer (§5.4.1: routing sent a non-Teredo destination, or the peer never answered
// its bubbles); the client tells its own stack that a peer did not answer its bubbles or connectivity tests
// (§5.2.4), so `ping` and `connect` fail at once with a reason instead of timing out. Miredo does both
// (libteredo/relay.c teredo_send_unreach, packets.c BuildICMPv6Error).
//
// No error answers what RFC 4443 §2.4 (e) forbids (an ICMPv6 error, a multicast destination, an unspecified or
// multicast source: wire/icmpv6.ts icmpv6ErrorAllowed). The error is built in one scratch buffer with
// wire/icmpv6.ts writeIcmpv6Error: nothing is allocated per error.

import { DST_UNREACHABLE_CODE, ICMPV6_ERROR_MAX_LEN, ICMPV6_TYPE, icmpv6ErrorAllowed, writeIcmpv6Error } from '../../wire/icmpv6.js';
import type { Millis } from '../types.js';

/** Who sends the errors and how many may go. */
export interface UnreachableOptions {
  /** 16-byte source address of the errors; undefined sends none. Copied. */
  readonly source: Uint8Array | undefined;
  readonly hopLimit: number;
  /** At most `perWindow` errors (>= 0; 0 sends none) in each window of `windowMs` ms that starts with an error. */
  readonly perWindow: number;
  readonly windowMs: number;
}

export class UnreachableErrors {
  readonly #source: Uint8Array | undefined;
  readonly #hopLimit: number;
  readonly #perWindow: number;
  readonly #windowMs: number;
  readonly #out = new Uint8Array(ICMPV6_ERROR_MAX_LEN);
  #windowStart = -Infinity;
  #left = 0;

  constructor(opts: UnreachableOptions) {
    this.#source = opts.source === undefined ? undefined : Uint8Array.from(opts.source);
    this.#hopLimit = opts.hopLimit;
    this.#perWindow = opts.perWindow;
    this.#windowMs = opts.windowMs;
  }

  /**
   * The unreachable error for the IPv6 packet data[offset .. offset + length), in `packet` (valid until the
   * next call): returns its length (> 0), 0 when none is due (no source, or §2.4 e forbids one), -1 when the
   * rate limit refuses it.
   */
  build(data: Uint8Array, offset: number, length: number, now: Millis): number {
    const src = this.#source;
    if (src === undefined || !icmpv6ErrorAllowed(data, offset, length)) return 0;
    if (!this.#allow(now)) return -1;
    return writeIcmpv6Error(this.#out, src, this.#hopLimit, ICMPV6_TYPE.DST_UNREACHABLE, DST_UNREACHABLE_CODE.ADDRESS_UNREACHABLE, data, offset, length);
  }

  /** The buffer build() wrote into. */
  get packet(): Uint8Array {
    return this.#out;
  }

  // Per window that the first error after the previous one opens, like Miredo's per-second count.
  #allow(now: Millis): boolean {
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#left = this.#perWindow;
    }
    if (this.#left === 0) return false;
    this.#left--;
    return true;
  }
}
