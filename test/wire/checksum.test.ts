// RFC 1071 one's-complement sum and the IPv6 pseudo-header checksum (RFC 8200 §8.1) on known vectors.

import { describe, expect, it } from 'vitest';
import { onesSum, ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { fromHex } from '../../src/wire/bytes.js';

describe('checksum', () => {
  it('RFC 1071 example sums to 0xddf2', () => {
    // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 give the folded sum ddf2.
    expect(onesSum(fromHex('0001f203f4f5f6f7'))).toBe(0xddf2);
  });

  it('pads an odd trailing byte with zero', () => {
    expect(onesSum(fromHex('0102 03'))).toBe(0x0102 + 0x0300);
  });

  it('reproduces the checksum of Miredo\'s captured Router Solicitation (0x7d37)', () => {
    // research/miredo-packets.txt frame 1: fe80::ffff:ffff:ffff -> ff02::2, ICMPv6 RS, checksum 0x7d37.
    const src = fromHex('fe80000000000000 0000ffffffffffff');
    const dst = fromHex('ff020000000000000000000000000002');
    expect(ipv6UpperChecksum(src, dst, 58, fromHex('8500000000000000'))).toBe(0x7d37);
  });
});
