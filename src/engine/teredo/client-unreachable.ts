// ICMPv6 Destination Unreachable (RFC 4443 §3.1, code 3 "address unreachable") to the local stack for each packet
// dropped because its destination could not be reached (the bubbles or connectivity tests of RFC 4380 §5.2.4 got
// no answer), so `ping` and `connect` fail at once with a reason instead of timing out. Miredo does the same.
//
// The error comes from fe80::ffff:ffff:ffff (the client's link-local, RFC 4380 §5.2.1), hop limit 255, and
// quotes as much of the dropped packet as fits in 1280 bytes (§2.4 (c)). Rate limit: one per 100 ms (Miredo's
// ICMP_RATE_LIMIT_MS, RFC 4443 §2.4 (f)); built in one scratch buffer, nothing allocated per error.

import { DST_UNREACHABLE_CODE, ICMPV6_ERROR_MAX_INVOKING_LEN, ICMPV6_TYPE, fillIcmpv6PacketChecksum } from '../../wire/icmpv6.js';
import { IPV6_FIELD, IPV6_HEADER_LEN, NEXT_HEADER } from '../../wire/ipv6.js';
import { NDISC_HOP_LIMIT } from '../../wire/ndisc.js';
import { TEREDO_CLIENT_LINK_LOCAL } from '../../wire/teredo-address.js';
import type { Millis } from '../types.js';
import type { ClientSink } from './client-types.js';

/** At most one error per this many ms. */
export const UNREACHABLE_INTERVAL_MS = 100;
/** IPv6 header + type, code, checksum + 4 unused bytes. */
const ERROR_HEAD = IPV6_HEADER_LEN + 8;

export class UnreachableReporter {
  readonly #buf = new Uint8Array(ERROR_HEAD + ICMPV6_ERROR_MAX_INVOKING_LEN);
  #last: Millis = -Infinity;
  /** Errors written, and those the rate limit held back. */
  sent = 0;
  limited = 0;

  constructor() {
    const b = this.#buf;
    b[0] = 0x60;
    b[IPV6_FIELD.NEXT_HEADER] = NEXT_HEADER.ICMPV6;
    b[IPV6_FIELD.HOP_LIMIT] = NDISC_HOP_LIMIT;
    b.set(TEREDO_CLIENT_LINK_LOCAL, IPV6_FIELD.SRC);
    b[IPV6_HEADER_LEN] = ICMPV6_TYPE.DST_UNREACHABLE;
    b[IPV6_HEADER_LEN + 1] = DST_UNREACHABLE_CODE.ADDRESS_UNREACHABLE;
  }

  /** Tells the local stack that the IPv6 packet data[offset .. offset + length) could not be delivered. */
  report(data: Uint8Array, offset: number, length: number, now: Millis, sink: ClientSink): void {
    if (now - this.#last < UNREACHABLE_INTERVAL_MS) {
      this.limited++;
      return;
    }
    this.#last = now;
    this.sent++;
    const b = this.#buf;
    const quoted = Math.min(length, ICMPV6_ERROR_MAX_INVOKING_LEN);
    const total = ERROR_HEAD + quoted;
    b.set(data.subarray(offset + IPV6_FIELD.SRC, offset + IPV6_FIELD.SRC + 16), IPV6_FIELD.DST);
    b[IPV6_FIELD.PAYLOAD_LENGTH] = (total - IPV6_HEADER_LEN) >>> 8;
    b[IPV6_FIELD.PAYLOAD_LENGTH + 1] = (total - IPV6_HEADER_LEN) & 0xff;
    b.set(data.subarray(offset, offset + quoted), ERROR_HEAD);
    fillIcmpv6PacketChecksum(b.subarray(0, total));
    sink.writeTun(b, 0, total);
  }
}
