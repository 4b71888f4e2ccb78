// RFC 6081 §4 trailers: golden bytes from the RFC's formats (type, length of the value, value), decoding
// after an IPv6 packet in a Teredo datagram, unknown and malformed trailers, and the allocation-free view.

import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/errors.js';
import { checkTeredoPayload, TeredoPacketView } from '../../src/wire/teredo-view.js';
import {
  decodeTrailers,
  encodeTrailers,
  readTrailers,
  TeredoTrailers,
  writeAlternateAddressTrailer,
  writeNeighborDiscoveryTrailer,
  writeNonceTrailer,
  writeRandomPortTrailer,
} from '../../src/wire/teredo-trailers.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.replace(/\s+/g, '').match(/../g)!.map((b) => parseInt(b, 16)));

// RFC 6081 §4.2: Type 0x01, Length 4, a 32-bit nonce.
const NONCE = hex('01 04 de ad be ef');
// §4.3: Type 0x03, Length 14 (2 reserved + 2 entries of 6), reserved 0000, 192.168.1.2:3544, 198.51.100.7:40000.
const ALTERNATE = hex('03 0e 0000 c0a80102 0dd8 c6336407 9c40');
// §4.4: Type 0x04, Length 1, DiscoveryType 1 (TeredoDiscoveryAdvertisement).
const DISCOVERY = hex('04 01 01');
// §4.5: Type 0x05, Length 2, port 50001.
const RANDOM_PORT = hex('05 02 c351');

const A1 = 0xc0a80102;
const A2 = 0xc6336407;

describe('golden bytes per trailer (RFC 6081 §4.2-§4.5)', () => {
  it('Nonce', () => {
    const out = new Uint8Array(8);
    expect(writeNonceTrailer(out, 1, 0xdeadbeef)).toBe(7);
    expect(out.subarray(1, 7)).toEqual(NONCE);
    expect(decodeTrailers(NONCE)).toEqual([{ kind: 'nonce', nonce: 0xdeadbeef }]);
  });

  it('Alternate Address, 1 and 2 entries', () => {
    const out = new Uint8Array(20);
    expect(writeAlternateAddressTrailer(out, 0, [A1, A2], [3544, 40000], 2)).toBe(16);
    expect(out.subarray(0, 16)).toEqual(ALTERNATE);
    expect(decodeTrailers(ALTERNATE)).toEqual([{ kind: 'alternate-address', entries: [{ addr: A1, port: 3544 }, { addr: A2, port: 40000 }] }]);
    expect(encodeTrailers([{ kind: 'alternate-address', entries: [{ addr: A1, port: 3544 }] }])).toEqual(hex('03 08 0000 c0a80102 0dd8'));
  });

  it('Neighbor Discovery Option', () => {
    const out = new Uint8Array(3);
    expect(writeNeighborDiscoveryTrailer(out, 0, 1)).toBe(3);
    expect(out).toEqual(DISCOVERY);
    expect(decodeTrailers(hex('04 01 00'))).toEqual([{ kind: 'neighbor-discovery', discoveryType: 0 }]);
  });

  it('Random Port', () => {
    const out = new Uint8Array(4);
    expect(writeRandomPortTrailer(out, 0, 50001)).toBe(4);
    expect(out).toEqual(RANDOM_PORT);
    expect(decodeTrailers(RANDOM_PORT)).toEqual([{ kind: 'random-port', port: 50001 }]);
  });

  it('several in a row, encoded and decoded', () => {
    const all = hex('01 04 deadbeef  03 0e 0000 c0a80102 0dd8 c6336407 9c40  04 01 01  05 02 c351');
    const list = decodeTrailers(all);
    expect(list.map((t) => t.kind)).toEqual(['nonce', 'alternate-address', 'neighbor-discovery', 'random-port']);
    expect(encodeTrailers(list)).toEqual(all);
  });

  it('Alternate Address: only lengths 8, 14, 20, 26 (2 reserved + 1-4 entries of 6); the reserved field is ignored on receipt', () => {
    // RFC 6081 §4.3 / [MS-TERE] 2.2.2: "the valid range of values is only 8, 14, 20, and 26"; Reserved "MUST be
    // set to 0x0000 and ignored on receipt".
    const four = hex('03 1a ffff' + 'c0a80102 0dd8'.repeat(4));
    const five = hex('03 20 0000' + 'c0a80102 0dd8'.repeat(5));
    const t = new TeredoTrailers();
    readTrailers(t, four, 0, four.length);
    expect([t.alternateCount, t.alternateAddr(3), t.alternatePort(3), t.unknown]).toEqual([4, A1, 3544, 0]);
    readTrailers(t, five, 0, five.length);
    expect([t.alternateCount, t.unknown]).toEqual([0, 1]);
  });

  it('an Alternate Address trailer holds 1 to 4 entries', () => {
    expect(() => encodeTrailers([{ kind: 'alternate-address', entries: [] }])).toThrow(WireError);
    const five = Array.from({ length: 5 }, () => ({ addr: A1, port: 1 }));
    expect(() => encodeTrailers([{ kind: 'alternate-address', entries: five }])).toThrow(WireError);
  });
});

describe('reading trailers', () => {
  it('unknown types and known types with another length are skipped; what follows still counts', () => {
    const t = new TeredoTrailers();
    // 0x7f with 3 bytes; a Nonce with length 3 (wrong); an Alternate Address with length 9 (not 2 + 6n); Random Port.
    const bytes = hex('7f 03 aabbcc  01 03 010203  03 09 000000000000000000  05 02 0dd8');
    readTrailers(t, bytes, 0, bytes.length);
    expect([t.unknown, t.hasNonce, t.alternateCount, t.randomPort, t.truncated]).toEqual([3, false, 0, 3544, false]);
  });

  it('a trailer running past the datagram stops the walk (those before it count)', () => {
    const t = new TeredoTrailers();
    const bytes = hex('05 02 0dd8  01 04 dead');
    readTrailers(t, bytes, 0, bytes.length);
    expect([t.randomPort, t.hasNonce, t.truncated]).toEqual([3544, false, true]);
    readTrailers(t, bytes, 0, 5); // a lone type byte
    expect([t.randomPort, t.truncated]).toEqual([3544, true]);
  });

  it('the first trailer of a type wins; the view is reset on each read', () => {
    const t = new TeredoTrailers();
    const two = hex('05 02 0001  05 02 0002');
    readTrailers(t, two, 0, two.length);
    expect(t.randomPort).toBe(1);
    readTrailers(t, new Uint8Array(0), 0, 0);
    expect([t.randomPort, t.any, t.truncated]).toEqual([-1, false, false]);
  });

  it('after the IPv6 packet of a Teredo datagram (a bubble with trailers, as RFC 6081 peers send)', () => {
    // RFC 4380 §2.8 bubble: IPv6 header, payload length 0, next header 59; then a Nonce and a Random Port trailer.
    const bubble = hex('60000000 0000 3b ff' + '20010000'.repeat(4) + '20010000'.repeat(4));
    const datagram = new Uint8Array([...bubble, ...NONCE, ...RANDOM_PORT]);
    const view = new TeredoPacketView();
    expect(checkTeredoPayload(view, datagram, 0, datagram.length)).toBe(0);
    expect(view.isBubble).toBe(true);
    const t = new TeredoTrailers();
    readTrailers(t, datagram, view.ipv6Offset + view.ipv6Length, view.end);
    expect([t.nonce, t.randomPort]).toEqual([0xdeadbeef, 50001]);
  });
});
