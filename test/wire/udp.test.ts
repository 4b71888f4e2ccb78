// UDP codec (RFC 768) with the IPv6 pseudo-header checksum (RFC 8200 §8.1, the 0 -> 0xffff rule).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../src/wire/bytes.js';
import { ipv6UpperChecksum } from '../../src/wire/checksum.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NEXT_HEADER, decodeIpv6, encodeIpv6 } from '../../src/wire/ipv6.js';
import { UDP_HEADER_LEN, decodeUdp, encodeUdp, udpChecksum, udpEncodedLength } from './udp.js';
import { expectWireError } from './ip-fixtures.js';

const addrs = { src: parseIpv6('2001:db8::1'), dst: parseIpv6('2001:db8::2') };

// UDP 3544 -> 53 carrying "hello" from 2001:db8::1 to 2001:db8::2. tshark 3.x/4.x ("udp.check_checksum: TRUE")
// reports checksum 0x5280 [correct] for this datagram inside its IPv6 header.
const GOLDEN = fromHex(
  [
    '0dd8', //       source port 3544
    '0035', //       destination port 53
    '000d', //       length 13 = 8 + 5
    '5280', //       checksum over the IPv6 pseudo-header
    '68656c6c6f', // "hello"
  ].join(''),
);

describe('udp', () => {
  it('decodes and verifies the golden datagram', () => {
    const d = decodeUdp(GOLDEN, addrs);
    expect(d.header).toEqual({ srcPort: 3544, dstPort: 53 });
    expect(d.length).toBe(13);
    expect(d.checksum).toBe(0x5280);
    expect(new TextDecoder().decode(d.payload)).toBe('hello');
  });

  it('encodes the golden datagram byte-exactly, checksum filled', () => {
    expect(hex(encodeUdp({ srcPort: 3544, dstPort: 53 }, fromHex('68656c6c6f'), addrs))).toBe(hex(GOLDEN));
  });

  it('rides inside an IPv6 packet and decodes back out of it', () => {
    const packet = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.UDP, hopLimit: 64, ...addrs }, GOLDEN);
    const ip = decodeIpv6(packet);
    expect(decodeUdp(ip.payload, ip.header).header.dstPort).toBe(53);
  });

  it('sends a computed checksum of 0 as 0xffff (RFC 768, RFC 8200 §8.1) and still verifies it', () => {
    // Choose the two payload bytes so that the whole sum is 0xffff, i.e. the checksum computes to 0.
    const probe = encodeUdp({ srcPort: 1, dstPort: 2 }, new Uint8Array(2), addrs);
    const c = (probe[6]! << 8) | probe[7]!;
    const datagram = encodeUdp({ srcPort: 1, dstPort: 2 }, new Uint8Array([c >> 8, c & 0xff]), addrs);
    expect(hex(datagram.subarray(6, 8))).toBe('ffff');
    const zeroed = datagram.slice();
    zeroed[6] = 0;
    zeroed[7] = 0;
    expect(ipv6UpperChecksum(addrs.src, addrs.dst, NEXT_HEADER.UDP, zeroed)).toBe(0); // the raw result is 0 ...
    expect(udpChecksum(zeroed, addrs)).toBe(0xffff); // ... and is sent as all ones
    expect(decodeUdp(datagram, addrs).checksum).toBe(0xffff);
  });

  it('rejects a bad or zero checksum only when asked to verify', () => {
    const bad = GOLDEN.slice();
    bad[8] = bad[8]! ^ 1;
    expectWireError(() => decodeUdp(bad, addrs), 'WIRE_BAD_CHECKSUM');
    expect(decodeUdp(bad).payload.length).toBe(5);
    const zero = GOLDEN.slice();
    zero[6] = 0;
    zero[7] = 0;
    expectWireError(() => decodeUdp(zero, addrs), 'WIRE_BAD_CHECKSUM');
    expect(decodeUdp(zero).checksum).toBe(0);
    expectWireError(() => decodeUdp(GOLDEN, { src: addrs.dst, dst: parseIpv6('2001:db8::3') }), 'WIRE_BAD_CHECKSUM');
  });

  it('rejects short headers, a length below 8, and a length past the end', () => {
    expectWireError(() => decodeUdp(GOLDEN.subarray(0, 7)), 'WIRE_TRUNCATED');
    expectWireError(() => decodeUdp(GOLDEN.subarray(0, 12)), 'WIRE_TRUNCATED');
    const tiny = GOLDEN.slice();
    tiny[5] = 7;
    expectWireError(() => decodeUdp(tiny), 'WIRE_BAD_LENGTH');
  });

  it('ignores bytes beyond the UDP length (and leaves them out of the checksum)', () => {
    const longer = new Uint8Array([...GOLDEN, 1, 2, 3]);
    const d = decodeUdp(longer, addrs);
    expect(d.payload.length).toBe(5);
  });

  it('encodes at an offset with encodedLength bytes, and refuses bad values', () => {
    const out = new Uint8Array(40).fill(0xee);
    const w = encodeUdp({ srcPort: 3544, dstPort: 53 }, fromHex('68656c6c6f'), addrs, out, 7);
    expect(w.length).toBe(udpEncodedLength(5));
    expect(w.byteOffset).toBe(7);
    expect(hex(out.subarray(7, 7 + 13))).toBe(hex(GOLDEN));
    expect(out[6]).toBe(0xee);
    expect(out[20]).toBe(0xee);
    expectWireError(() => encodeUdp({ srcPort: 65536, dstPort: 1 }, new Uint8Array(0), addrs), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeUdp({ srcPort: 1, dstPort: 1 }, new Uint8Array(0x10000 - UDP_HEADER_LEN + 1), addrs), 'WIRE_BAD_VALUE');
    expect(() => encodeUdp({ srcPort: 1, dstPort: 1 }, new Uint8Array(4), addrs, new Uint8Array(11))).toThrow(RangeError);
  });

  it('round-trips random datagrams and always verifies its own checksum (property)', () => {
    const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const port = fc.integer({ min: 0, max: 0xffff });
    fc.assert(
      fc.property(port, port, fc.uint8Array({ maxLength: 200 }), addr, addr, (srcPort, dstPort, payload, src, dst) => {
        const bytes = encodeUdp({ srcPort, dstPort }, payload, { src, dst });
        const d = decodeUdp(bytes, { src, dst });
        expect(d.header).toEqual({ srcPort, dstPort });
        expect(d.payload).toEqual(payload);
        expect(d.checksum).not.toBe(0);
      }),
    );
  });
});
