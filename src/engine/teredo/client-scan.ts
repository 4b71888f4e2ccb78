// Where the parts of a received Teredo UDP payload are (RFC 4380 §5.1.1), found without allocating: the client
// looks at every datagram it receives, so it reads offsets into the lent bytes instead of decoding objects.
//
//   [00 01 idlen aulen id au nonce(8) conf(1)]  [00 00 ~port ~ipv4]  IPv6 (40 + payload length)  [trailer]
//
// Valid as in teredo-packet.ts (the object decoder this mirrors): version 6 and 40 + payload length within the
// datagram; what follows the IPv6 packet is an RFC 6081 trailer and ignored here.

import { IPV6_HEADER_LEN } from '../../wire/ipv6.js';
import { TEREDO_AUTH_MIN_LEN, TEREDO_NONCE_LEN, TEREDO_ORIGIN_LEN } from '../../wire/teredo-packet.js';

/** One reusable scan result (the engine keeps one and overwrites it per datagram). Offsets are into `data`. */
export class TeredoScan {
  /** Offset of the 8-byte nonce, -1 without an authentication header. */
  nonceAt = -1;
  /** Offset of the origin indication, -1 without one. */
  originAt = -1;
  /** Offset and length of the IPv6 packet (header + payload, trailer excluded). */
  ipv6At = 0;
  ipv6Length = 0;

  /** Scans data[offset .. offset + length); false when it is not a valid Teredo payload. */
  scan(data: Uint8Array, offset: number, length: number): boolean {
    const end = offset + length;
    let at = offset;
    this.nonceAt = -1;
    this.originAt = -1;
    if (at + 2 <= end && data[at] === 0 && data[at + 1] === 1) {
      if (at + TEREDO_AUTH_MIN_LEN > end) return false;
      const idAu = data[at + 2]! + data[at + 3]!;
      if (at + TEREDO_AUTH_MIN_LEN + idAu > end) return false;
      this.nonceAt = at + 4 + idAu;
      at += TEREDO_AUTH_MIN_LEN + idAu;
    }
    if (at + 2 <= end && data[at] === 0 && data[at + 1] === 0) {
      if (at + TEREDO_ORIGIN_LEN > end) return false;
      this.originAt = at;
      at += TEREDO_ORIGIN_LEN;
    }
    if (at + IPV6_HEADER_LEN > end || data[at]! >>> 4 !== 6) return false;
    const total = IPV6_HEADER_LEN + ((data[at + 4]! << 8) | data[at + 5]!);
    if (at + total > end) return false;
    this.ipv6At = at;
    this.ipv6Length = total;
    return true;
  }

  /** The origin indication's port, de-obfuscated (call only when originAt >= 0). */
  originPort(data: Uint8Array): number {
    return ((data[this.originAt + 2]! << 8) | data[this.originAt + 3]!) ^ 0xffff;
  }

  /** The origin indication's IPv4 address (uint32), de-obfuscated (call only when originAt >= 0). */
  originAddr(data: Uint8Array): number {
    const o = this.originAt + 4;
    return ~((data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!) >>> 0;
  }
}

/** True when the 8 bytes at data[at] equal `nonce`. */
export function nonceEquals(data: Uint8Array, at: number, nonce: Uint8Array): boolean {
  for (let i = 0; i < TEREDO_NONCE_LEN; i++) if (data[at + i] !== nonce[i]) return false;
  return true;
}
