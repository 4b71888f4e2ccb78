// ICMPv6 codec (RFC 4443): the generic message with its checksum (unknown types round-trip), Echo
// Request/Reply (§4.1, §4.2) and Destination Unreachable (§3.1), golden bytes, errors by code, properties; the
// data path's error builder (§2.4) against the codec.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, fromHex, hex } from '../../src/wire/bytes.js';
import {
  DST_UNREACHABLE_CODE,
  ICMPV6_ERROR_MAX_INVOKING_LEN,
  ICMPV6_TYPE,
  decodeDstUnreachable,
  decodeEcho,
  decodeIcmpv6,
  decodeIcmpv6Packet,
  dstUnreachableMessage,
  echoMessage,
  encodeIcmpv6,
  encodeIcmpv6Packet,
  encodeIcmpv6PacketHead,
  fillIcmpv6PacketChecksum,
  icmpv6EncodedLength,
  icmpv6ErrorAllowed,
  icmpv6PacketEncodedLength,
  verifyIcmpv6Checksum,
  writeIcmpv6Error,
} from '../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { NEXT_HEADER, encodeIpv6 } from '../../src/wire/ipv6.js';
import { MIREDO_RA_IPV6, MIREDO_RS_IPV6 } from '../fakes/miredo-captures.js';
import { expectWireError } from './ip-fixtures.js';

const g1 = parseIpv6('2001:db8::1');
const g2 = parseIpv6('2001:db8::2');
const ip = { src: g1, dst: g2, hopLimit: 64 };

// Echo Request 2001:db8::1 -> 2001:db8::2 with an 8-byte nonce as data (the shape of a Teredo direct
// connectivity test, RFC 4380 §5.2.9). tshark reports checksum 0x569e [correct].
const ECHO_PACKET = fromHex(
  [
    '60000000 0010 3a 40', // IPv6: payload 16, next header 58, hop limit 64
    '20010db8000000000000000000000001', // source 2001:db8::1
    '20010db8000000000000000000000002', // destination 2001:db8::2
    '80 00 569e', //                       type 128 echo request, code 0, checksum
    '1234 0007', //                        identifier 0x1234, sequence 7
    '5d1040b45d4dc054', //                 data
  ].join(''),
);

// Destination Unreachable (address unreachable) quoting ECHO_PACKET. tshark: checksum 0x0907 [correct].
const UNREACHABLE_PACKET = fromHex(
  [
    '60000000 0040 3a 40', // payload 64 = 8 + 56
    '20010db8000000000000000000000001',
    '20010db8000000000000000000000002',
    '01 03 0907', //          type 1, code 3 address unreachable, checksum
    '00000000', //            unused
    hex(ECHO_PACKET), //      the invoking packet
  ].join(''),
);

describe('icmpv6 generic message', () => {
  it('decodes the Miredo RS and RA, verifying checksums 0x7d37 and 0x954c', () => {
    const rs = decodeIcmpv6Packet(MIREDO_RS_IPV6);
    expect(rs.message).toMatchObject({ type: ICMPV6_TYPE.ROUTER_SOLICIT, code: 0, checksum: 0x7d37 });
    expect(hex(rs.message.body)).toBe('00000000');
    const ra = decodeIcmpv6Packet(MIREDO_RA_IPV6);
    expect(ra.message).toMatchObject({ type: ICMPV6_TYPE.ROUTER_ADVERT, code: 0, checksum: 0x954c });
    expect(ra.message.body.length).toBe(52);
  });

  it('re-encodes the Miredo RS and RA byte-exactly from the generic message', () => {
    for (const packet of [MIREDO_RS_IPV6, MIREDO_RA_IPV6]) {
      const d = decodeIcmpv6Packet(packet);
      const again = encodeIcmpv6Packet({ src: d.header.src, dst: d.header.dst, hopLimit: d.header.hopLimit }, d.message);
      expect(hex(again)).toBe(hex(packet));
    }
  });

  it('rejects a corrupted checksum, a non-ICMPv6 next header and a short message', () => {
    const bad = MIREDO_RA_IPV6.slice();
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
    expectWireError(() => decodeIcmpv6Packet(bad), 'WIRE_BAD_CHECKSUM');
    const bubble = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 0, src: g1, dst: g2 }, new Uint8Array(0));
    expectWireError(() => decodeIcmpv6Packet(bubble), 'WIRE_UNEXPECTED_TYPE');
    expectWireError(() => decodeIcmpv6(fromHex('8000 00')), 'WIRE_TRUNCATED');
  });

  it('keeps the IPv6 trailer when decoding a packet', () => {
    const d = decodeIcmpv6Packet(new Uint8Array([...ECHO_PACKET, 0x01, 0x04, 9, 9, 9, 9, 9, 9]));
    expect(hex(d.trailer)).toBe('0104090909090909');
    expect(decodeEcho(d.message).seq).toBe(7);
  });

  it('round-trips an unknown type and code untouched', () => {
    const msg = { type: 200, code: 7, body: fromHex('deadbeef01') };
    const bytes = encodeIcmpv6(msg, ip);
    expect(bytes.length).toBe(icmpv6EncodedLength(5));
    expect(verifyIcmpv6Checksum(bytes, ip)).toBe(true);
    const d = decodeIcmpv6(bytes, ip);
    expect({ type: d.type, code: d.code, body: d.body }).toEqual(msg);
  });

  it('encodes at an offset inside a larger buffer, and packets can be built in place', () => {
    const out = new Uint8Array(80).fill(0xee);
    const w = encodeIcmpv6Packet(ip, echoMessage(128, { id: 0x1234, seq: 7, data: fromHex('5d1040b45d4dc054') }), out, 5);
    expect(w.byteOffset).toBe(5);
    expect(w.length).toBe(icmpv6PacketEncodedLength(12));
    expect(hex(out.subarray(5, 5 + w.length))).toBe(hex(ECHO_PACKET));
    expect(out[4]).toBe(0xee);
    expect(out[5 + w.length]).toBe(0xee);

    const buf = new Uint8Array(icmpv6PacketEncodedLength(12));
    const at = encodeIcmpv6PacketHead(ip, 128, 0, 12, buf, 0);
    buf.set(fromHex('123400075d1040b45d4dc054'), at);
    fillIcmpv6PacketChecksum(buf);
    expect(hex(buf)).toBe(hex(ECHO_PACKET));

    // Bytes after the Payload Length (a trailer, or a larger scratch buffer) stay out of the checksum.
    const longer = new Uint8Array([...ECHO_PACKET, 0xff, 0xff, 0xff]);
    longer[42] = 0;
    longer[43] = 0;
    fillIcmpv6PacketChecksum(longer);
    expect(hex(longer.subarray(0, ECHO_PACKET.length))).toBe(hex(ECHO_PACKET));
  });

  it('refuses out-of-range type or code and a small buffer', () => {
    expectWireError(() => encodeIcmpv6({ type: 256, code: 0, body: new Uint8Array(0) }, ip), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeIcmpv6({ type: 1, code: -1, body: new Uint8Array(0) }, ip), 'WIRE_BAD_VALUE');
    expect(() => encodeIcmpv6Packet(ip, { type: 1, code: 0, body: new Uint8Array(4) }, new Uint8Array(47))).toThrow(RangeError);
  });

  it('round-trips random messages inside packets (property)', () => {
    const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
    const msg = fc.record({ type: fc.integer({ min: 0, max: 255 }), code: fc.integer({ min: 0, max: 255 }), body: fc.uint8Array({ maxLength: 200 }) });
    fc.assert(
      fc.property(addr, addr, fc.integer({ min: 0, max: 255 }), msg, (src, dst, hopLimit, m) => {
        const d = decodeIcmpv6Packet(encodeIcmpv6Packet({ src, dst, hopLimit }, m));
        expect(d.header).toMatchObject({ src, dst, hopLimit, nextHeader: 58 });
        expect({ type: d.message.type, code: d.message.code, body: d.message.body }).toEqual(m);
      }),
    );
  });
});

describe('icmpv6 echo', () => {
  it('decodes and encodes the golden echo request', () => {
    const d = decodeIcmpv6Packet(ECHO_PACKET);
    expect(d.message.checksum).toBe(0x569e);
    expect(decodeEcho(d.message)).toEqual({ id: 0x1234, seq: 7, data: fromHex('5d1040b45d4dc054') });
    const again = encodeIcmpv6Packet(ip, echoMessage(ICMPV6_TYPE.ECHO_REQUEST, { id: 0x1234, seq: 7, data: fromHex('5d1040b45d4dc054') }));
    expect(bytesEqual(again, ECHO_PACKET)).toBe(true);
  });

  it('turns a request into a reply with the same data', () => {
    const req = decodeEcho(decodeIcmpv6Packet(ECHO_PACKET).message);
    const reply = decodeIcmpv6Packet(encodeIcmpv6Packet({ src: g2, dst: g1, hopLimit: 64 }, echoMessage(ICMPV6_TYPE.ECHO_REPLY, req)));
    expect(reply.message.type).toBe(129);
    expect(decodeEcho(reply.message)).toEqual(req);
  });

  it('rejects other types and short bodies', () => {
    expectWireError(() => decodeEcho({ type: 133, code: 0, body: new Uint8Array(4) }), 'WIRE_UNEXPECTED_TYPE');
    expectWireError(() => decodeEcho({ type: 129, code: 0, body: new Uint8Array(3) }), 'WIRE_TRUNCATED');
    expectWireError(() => echoMessage(128, { id: 0x10000, seq: 0, data: new Uint8Array(0) }), 'WIRE_BAD_VALUE');
  });
});

describe('icmpv6 destination unreachable', () => {
  it('decodes and encodes the golden address-unreachable error', () => {
    const d = decodeIcmpv6Packet(UNREACHABLE_PACKET);
    expect(d.message.checksum).toBe(0x0907);
    const du = decodeDstUnreachable(d.message);
    expect(du.code).toBe(DST_UNREACHABLE_CODE.ADDRESS_UNREACHABLE);
    expect(hex(du.invoking)).toBe(hex(ECHO_PACKET));
    expect(hex(encodeIcmpv6Packet(ip, dstUnreachableMessage({ code: 3, invoking: ECHO_PACKET })))).toBe(hex(UNREACHABLE_PACKET));
  });

  it('cuts a long invoking packet so the whole error fits the 1280-byte minimum MTU (RFC 4443 §2.4 c)', () => {
    const big = new Uint8Array(1500).map((_, i) => i & 0xff);
    const packet = encodeIcmpv6Packet(ip, dstUnreachableMessage({ code: 0, invoking: big }));
    expect(packet.length).toBe(1280);
    const du = decodeDstUnreachable(decodeIcmpv6Packet(packet).message);
    expect(du.invoking.length).toBe(ICMPV6_ERROR_MAX_INVOKING_LEN);
    expect(bytesEqual(du.invoking, big.subarray(0, ICMPV6_ERROR_MAX_INVOKING_LEN))).toBe(true);
  });

  it('rejects other types and short bodies', () => {
    expectWireError(() => decodeDstUnreachable({ type: 2, code: 0, body: new Uint8Array(8) }), 'WIRE_UNEXPECTED_TYPE');
    expectWireError(() => decodeDstUnreachable({ type: 1, code: 0, body: new Uint8Array(3) }), 'WIRE_TRUNCATED');
  });
});

describe('icmpv6 errors on the data path (RFC 4443 §2.4)', () => {
  /** An IPv6 packet src -> dst with `next` and a payload whose first byte is `first`, at `pad` in a junk buffer. */
  function packet(src: string, dst: string, next: number, payload: number[], pad = 0): [Uint8Array, number, number] {
    const p = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: next, hopLimit: 64, src: parseIpv6(src), dst: parseIpv6(dst) }, Uint8Array.from(payload));
    const buf = new Uint8Array(pad + p.length + 3).fill(0xee);
    buf.set(p, pad);
    return [buf, pad, p.length];
  }

  it('§2.4 (e): never answers an error, a redirect, a multicast destination, an unspecified or multicast source', () => {
    const allowed = (src: string, dst: string, next: number, payload: number[] = []): boolean => icmpv6ErrorAllowed(...packet(src, dst, next, payload, 3));
    expect(allowed('2001:db8::1', '2001:0:c612:a::1', NEXT_HEADER.ICMPV6, [128, 0, 0, 0])).toBe(true); // echo request
    expect(allowed('2001:db8::1', '2001:0:c612:a::1', NEXT_HEADER.UDP, [1, 2, 3, 4, 5, 6, 7, 8])).toBe(true);
    expect(allowed('2001:db8::1', '2001:0:c612:a::1', NEXT_HEADER.ICMPV6)).toBe(true); // nothing to read as a type
    for (const type of [1, 2, 3, 4, 127]) expect(allowed('2001:db8::1', '2001:0:c612:a::1', NEXT_HEADER.ICMPV6, [type, 0, 0, 0]), `type ${type}`).toBe(false); // e.1
    expect(allowed('2001:db8::1', '2001:0:c612:a::1', NEXT_HEADER.ICMPV6, [137, 0, 0, 0])).toBe(false); // e.2 redirect
    expect(allowed('2001:db8::1', 'ff0e::1', NEXT_HEADER.UDP)).toBe(false); // e.3
    expect(allowed('::', '2001:0:c612:a::1', NEXT_HEADER.UDP)).toBe(false); // e.6
    expect(allowed('ff02::1', '2001:0:c612:a::1', NEXT_HEADER.UDP)).toBe(false); // e.6
    expect(icmpv6ErrorAllowed(new Uint8Array(39), 0, 39)).toBe(false);
  });

  it('writes in place what the codec builds: Destination Unreachable quoting the packet, to its source', () => {
    const [data, offset, length] = packet('2001:db8::2', '2001:0:c612:a::1', NEXT_HEADER.ICMPV6, [128, 0, 0x12, 0x34, 0, 1, 0, 7]);
    const out = new Uint8Array(1280).fill(0xee);
    const n = writeIcmpv6Error(out, g1, 64, ICMPV6_TYPE.DST_UNREACHABLE, DST_UNREACHABLE_CODE.ADDRESS_UNREACHABLE, data, offset, length);
    const expected = encodeIcmpv6Packet({ src: g1, dst: g2, hopLimit: 64 }, dstUnreachableMessage({ code: 3, invoking: data.subarray(offset, offset + length) }));
    expect(hex(out.subarray(0, n))).toBe(hex(expected));
    expect(decodeIcmpv6Packet(out.subarray(0, n)).message.type).toBe(1); // the checksum verifies
  });

  it('cuts a long packet so that the error fits 1280 bytes (§2.4 c)', () => {
    const [data, offset, length] = packet('2001:db8::2', '2001:0:c612:a::1', NEXT_HEADER.UDP, Array.from({ length: 1400 }, (_, i) => i & 0xff), 5);
    const out = new Uint8Array(1280);
    const n = writeIcmpv6Error(out, g1, 255, ICMPV6_TYPE.DST_UNREACHABLE, 3, data, offset, length);
    expect(n).toBe(1280);
    const d = decodeIcmpv6Packet(out);
    expect(d.header.hopLimit).toBe(255);
    expect(bytesEqual(decodeDstUnreachable(d.message).invoking, data.subarray(offset, offset + ICMPV6_ERROR_MAX_INVOKING_LEN))).toBe(true);
  });
});
