// IPv6 header codec (RFC 8200 §3): golden Miredo frames, bytes after the payload kept as an opaque trailer
// (RFC 6081), errors by code, round-trip properties.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromHex, hex } from '../../src/wire/bytes.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { IPV6_HEADER_LEN, NEXT_HEADER, decodeIpv6, encodeIpv6, encodeIpv6Header, ipv6EncodedLength, type Ipv6Header } from '../../src/wire/ipv6.js';
import { MIREDO_RA_IPV6, MIREDO_RS_IPV6 } from '../fakes/miredo-captures.js';
import { expectWireError } from './ip-fixtures.js';

// A hand-annotated header (RFC 8200 §3) with every field non-zero, so bit packing mistakes show.
const ANNOTATED = fromHex(
  [
    '6a bc de f1', // version 6, traffic class 0xab, flow label 0xcdef1
    '00 03', //       payload length 3
    '11', //          next header 17 (UDP)
    '40', //          hop limit 64
    '2001 0db8 0000 0000 0000 0000 0000 0001', // source 2001:db8::1
    'fe80 0000 0000 0000 0000 0000 0000 00ff', // destination fe80::ff
    'aa bb cc', //    payload
  ].join(''),
);

const annotatedHeader: Ipv6Header = {
  trafficClass: 0xab,
  flowLabel: 0xcdef1,
  nextHeader: NEXT_HEADER.UDP,
  hopLimit: 64,
  src: parseIpv6('2001:db8::1'),
  dst: parseIpv6('fe80::ff'),
};

describe('ipv6 header', () => {
  it('decodes the annotated header field by field', () => {
    const d = decodeIpv6(ANNOTATED);
    expect(d.header).toEqual(annotatedHeader);
    expect(d.payloadLength).toBe(3);
    expect(hex(d.payload)).toBe('aabbcc');
    expect(d.trailer.length).toBe(0);
  });

  it('encodes the annotated header byte-exactly', () => {
    expect(hex(encodeIpv6(annotatedHeader, fromHex('aabbcc')))).toBe(hex(ANNOTATED));
  });

  it('decodes the Miredo RS and RA (frames 1 and 2) and re-encodes them byte-exactly', () => {
    const rs = decodeIpv6(MIREDO_RS_IPV6);
    expect(rs.header).toMatchObject({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.ICMPV6, hopLimit: 255 });
    expect(formatIpv6(rs.header.src)).toBe('fe80::ffff:ffff:ffff');
    expect(formatIpv6(rs.header.dst)).toBe('ff02::2');
    expect(rs.payloadLength).toBe(8);
    expect(bytesEqual(encodeIpv6(rs.header, rs.payload), MIREDO_RS_IPV6)).toBe(true);

    const ra = decodeIpv6(MIREDO_RA_IPV6);
    expect(formatIpv6(ra.header.src)).toBe('fe80::8000:f227:39ed:fff5');
    expect(formatIpv6(ra.header.dst)).toBe('fe80::ffff:ffff:ffff');
    expect(ra.payloadLength).toBe(56);
    expect(ra.trailer.length).toBe(0);
    expect(bytesEqual(encodeIpv6(ra.header, ra.payload), MIREDO_RA_IPV6)).toBe(true);
  });

  it('returns zero-copy views of the input', () => {
    const d = decodeIpv6(MIREDO_RS_IPV6);
    for (const v of [d.header.src, d.header.dst, d.payload, d.trailer]) expect(v.buffer).toBe(MIREDO_RS_IPV6.buffer);
    expect(d.payload.byteOffset).toBe(MIREDO_RS_IPV6.byteOffset + IPV6_HEADER_LEN);
  });

  it('keeps bytes after the payload as an opaque trailer (RFC 6081) instead of failing', () => {
    const trailer = fromHex('01 04 00 00 00 00 00 00 ff'); // e.g. a nonce trailer, then junk
    const withTrailer = new Uint8Array([...MIREDO_RS_IPV6, ...trailer]);
    const d = decodeIpv6(withTrailer);
    expect(d.payloadLength).toBe(8);
    expect(hex(d.payload)).toBe(hex(MIREDO_RS_IPV6.subarray(40)));
    expect(hex(d.trailer)).toBe(hex(trailer));
  });

  it('accepts an empty payload (a Teredo bubble: next header 59, length 0)', () => {
    const bubble = encodeIpv6({ ...annotatedHeader, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 0 }, new Uint8Array(0));
    expect(bubble.length).toBe(40);
    const d = decodeIpv6(bubble);
    expect(d.payloadLength).toBe(0);
    expect(d.header.nextHeader).toBe(59);
  });

  it('rejects a wrong version, a short header and a payload length past the end', () => {
    const v4 = ANNOTATED.slice();
    v4[0] = 0x4a;
    expectWireError(() => decodeIpv6(v4), 'WIRE_BAD_VERSION');
    expectWireError(() => decodeIpv6(ANNOTATED.subarray(0, 39)), 'WIRE_TRUNCATED');
    expectWireError(() => decodeIpv6(ANNOTATED.subarray(0, 42)), 'WIRE_TRUNCATED');
    expectWireError(() => decodeIpv6(new Uint8Array(0)), 'WIRE_TRUNCATED');
  });

  it('encodes at an offset inside a larger buffer, touching only its own bytes', () => {
    const payload = fromHex('aabbcc');
    const out = new Uint8Array(100).fill(0xee);
    const written = encodeIpv6(annotatedHeader, payload, out, 10);
    expect(written.length).toBe(ipv6EncodedLength(payload.length));
    expect(written.byteOffset).toBe(10);
    expect(hex(out.subarray(10, 10 + written.length))).toBe(hex(ANNOTATED));
    expect(out.subarray(0, 10).every((x) => x === 0xee)).toBe(true);
    expect(out.subarray(10 + written.length).every((x) => x === 0xee)).toBe(true);
  });

  it('writes the header alone in front of a payload already in place', () => {
    const out = new Uint8Array(43);
    out.set(fromHex('aabbcc'), 40);
    expect(encodeIpv6Header(annotatedHeader, 3, out, 0)).toBe(40);
    expect(hex(out)).toBe(hex(ANNOTATED));
  });

  it('refuses out-of-range fields with WIRE_BAD_VALUE and a small buffer with RangeError', () => {
    expectWireError(() => encodeIpv6({ ...annotatedHeader, flowLabel: 0x100000 }, new Uint8Array(0)), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeIpv6({ ...annotatedHeader, trafficClass: 256 }, new Uint8Array(0)), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeIpv6({ ...annotatedHeader, hopLimit: -1 }, new Uint8Array(0)), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeIpv6({ ...annotatedHeader, src: new Uint8Array(4) }, new Uint8Array(0)), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeIpv6(annotatedHeader, new Uint8Array(0x10000)), 'WIRE_BAD_VALUE');
    expect(() => encodeIpv6(annotatedHeader, fromHex('aabbcc'), new Uint8Array(42))).toThrow(RangeError);
  });

  it('round-trips random headers and payloads (property)', () => {
    const header = fc.record({
      trafficClass: fc.integer({ min: 0, max: 0xff }),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }),
      nextHeader: fc.integer({ min: 0, max: 0xff }),
      hopLimit: fc.integer({ min: 0, max: 0xff }),
      src: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      dst: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    });
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 20 }), (h, payload, trailer) => {
        const bytes = encodeIpv6(h, payload);
        expect(bytes.length).toBe(ipv6EncodedLength(payload.length));
        const d = decodeIpv6(new Uint8Array([...bytes, ...trailer]));
        expect(d.header).toEqual(h);
        expect(d.payload).toEqual(payload);
        expect(d.trailer).toEqual(trailer);
      }),
    );
  });
});
