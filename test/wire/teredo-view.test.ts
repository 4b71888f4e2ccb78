// checkTeredoPayload (the data path's allocation-free check) agrees with decodeTeredoPayload (the codec) on
// every input: it accepts exactly what the codec decodes, and locates the same parts at the same places, also
// when the datagram lies at an offset inside a larger buffer. Plus the in-place address accessors, and the
// in-place writers of the origin indication and the bubble, against the codec.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/errors.js';
import { isGlobalUnicast6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeTeredoAddress, encodeTeredoAddress, teredoEmbeds, teredoFlagsAt, teredoMappedAddrAt, teredoMappedPortAt, teredoPrefix, teredoServerAt } from '../../src/wire/teredo-address.js';
import { decodeTeredoOrigin, decodeTeredoPayload, encodeTeredoOrigin, encodeTeredoPayload, isBubble } from '../../src/wire/teredo-packet.js';
import { TEREDO_BUBBLE_LEN, TEREDO_CHECK, TeredoPacketView, checkTeredoPayload, writeBubbleHeader, writeTeredoOrigin } from '../../src/wire/teredo-view.js';

const ipv6Arb = fc.tuple(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ maxLength: 60 })).map(([hdr, body]) => {
  const pkt = new Uint8Array(40 + body.length);
  pkt.set(hdr);
  pkt[0] = 0x60 | (hdr[0]! & 0x0f);
  pkt[4] = body.length >> 8;
  pkt[5] = body.length & 0xff;
  pkt.set(body, 40);
  return pkt;
});
const payloadArb = fc.record({
  auth: fc.option(fc.record({ clientId: fc.uint8Array({ maxLength: 20 }), authValue: fc.uint8Array({ maxLength: 20 }), nonce: fc.uint8Array({ minLength: 8, maxLength: 8 }), confirmation: fc.integer({ min: 0, max: 255 }) }), { nil: undefined }),
  origin: fc.option(fc.record({ addr: fc.integer({ min: 0, max: 0xffffffff }), port: fc.integer({ min: 0, max: 0xffff }) }), { nil: undefined }),
  ipv6: ipv6Arb,
  trailer: fc.uint8Array({ maxLength: 20 }),
});

/** The datagram placed at `pad` inside a buffer of junk, as a port's batch buffer holds it. */
function embed(bytes: Uint8Array, pad: number): Uint8Array {
  const buf = new Uint8Array(pad + bytes.length + 7).fill(0x60);
  buf.set(bytes, pad);
  return buf;
}

/** checkTeredoPayload and the codec must agree, byte for byte, on what is where. */
function agree(bytes: Uint8Array, pad: number): void {
  const view = new TeredoPacketView();
  const result = checkTeredoPayload(view, embed(bytes, pad), pad, bytes.length);
  let decoded;
  try {
    decoded = decodeTeredoPayload(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
    expect(result).toBeLessThan(0);
    return;
  }
  expect(result).toBe(view.ipv6Offset);
  expect(view.ipv6Offset - pad).toBe(decoded.ipv6.byteOffset - bytes.byteOffset);
  expect(view.ipv6Length).toBe(decoded.ipv6.length);
  expect(view.end - view.ipv6Offset - view.ipv6Length).toBe(decoded.trailer.length);
  expect(view.nonceOffset >= 0).toBe(decoded.auth !== undefined);
  if (decoded.auth) expect(view.data.subarray(view.nonceOffset, view.nonceOffset + 8)).toEqual(decoded.auth.nonce);
  expect(view.originOffset >= 0).toBe(decoded.origin !== undefined);
  if (decoded.origin) expect({ addr: view.originAddr, port: view.originPort }).toEqual(decoded.origin);
}

describe('checkTeredoPayload', () => {
  it('accepts every valid payload and finds its parts where the codec does', () => {
    fc.assert(fc.property(payloadArb, fc.integer({ min: 0, max: 9 }), (p, pad) => agree(encodeTeredoPayload(p), pad)), { numRuns: 500 });
  });

  it('refuses exactly what the codec refuses: random bytes, truncations and corruptions', () => {
    const start = fc.constantFrom(new Uint8Array(0), Uint8Array.of(0, 1), Uint8Array.of(0, 0), Uint8Array.of(0x60));
    fc.assert(fc.property(start, fc.uint8Array({ maxLength: 90 }), fc.integer({ min: 0, max: 5 }), (s, rest, pad) => agree(Uint8Array.from([...s, ...rest]), pad)), { numRuns: 2000 });
    fc.assert(
      fc.property(payloadArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (p, cut, at, value) => {
        const bytes = encodeTeredoPayload(p);
        agree(bytes.subarray(0, cut % (bytes.length + 1)), 3);
        const corrupt = bytes.slice();
        corrupt[at % corrupt.length] = value;
        agree(corrupt, 1);
      }),
      { numRuns: 500 },
    );
  });

  it('names why: auth, origin, not IPv6, IPv6 cut short', () => {
    const view = new TeredoPacketView();
    const at = (b: number[]): number => checkTeredoPayload(view, Uint8Array.from(b), 0, b.length);
    expect(at([0, 1, 5, 0, 1, 2])).toBe(TEREDO_CHECK.AUTH_TRUNCATED);
    expect(at([0, 0, 1, 2])).toBe(TEREDO_CHECK.ORIGIN_TRUNCATED);
    expect(at([0x45, ...new Array<number>(39).fill(0)])).toBe(TEREDO_CHECK.NOT_IPV6);
    expect(at([0x60, 0, 0, 0, 0, 9, ...new Array<number>(34).fill(0)])).toBe(TEREDO_CHECK.IPV6_TRUNCATED);
  });
});

describe('in-place Teredo address accessors', () => {
  const addr = parseIpv6('2001:0:1117:34fa:1027:374b:e1fc:f635'); // the seed's worked example
  const buf = embed(addr, 5);

  it('read the seed address in place, as decodeTeredoAddress does', () => {
    const d = decodeTeredoAddress(addr);
    expect(teredoServerAt(buf, 5)).toBe(parseIpv4('17.23.52.250'));
    expect(teredoFlagsAt(buf, 5)).toBe(0x1027);
    expect(teredoMappedPortAt(buf, 5)).toBe(51380);
    expect(teredoMappedAddrAt(buf, 5)).toBe(parseIpv4('30.3.9.202'));
    expect([teredoServerAt(addr), teredoFlagsAt(addr), teredoMappedPortAt(addr), teredoMappedAddrAt(addr)]).toEqual([d.server, d.flags, d.mappedPort, d.mappedAddr]);
  });

  it('teredoEmbeds is true only for the exact mapping of a Teredo address', () => {
    expect(teredoEmbeds(buf, 5, parseIpv4('30.3.9.202'), 51380)).toBe(true);
    expect(teredoEmbeds(buf, 5, parseIpv4('30.3.9.202'), 51381)).toBe(false);
    expect(teredoEmbeds(buf, 5, parseIpv4('30.3.9.203'), 51380)).toBe(false);
    const native = parseIpv6('2002:0:1117:34fa:1027:374b:e1fc:f635');
    expect(teredoEmbeds(native, 0, parseIpv4('30.3.9.202'), 51380)).toBe(false);
  });

  it('teredoPrefix is 2001:0:<server>::', () => {
    expect(teredoPrefix(parseIpv4('198.18.0.10'))).toEqual(parseIpv6('2001:0:c612:a::'));
    expect(encodeTeredoAddress({ server: parseIpv4('198.18.0.10'), mappedPort: 1, mappedAddr: 1 }).subarray(0, 8)).toEqual(teredoPrefix(parseIpv4('198.18.0.10')).subarray(0, 8));
  });

  it('isGlobalUnicast6 reads the address at an offset', () => {
    for (const [text, global] of [['2001:db8:6::100', true], ['fe80::1', false], ['ff02::1', false], ['::1', false], ['::', false], ['::ffff:192.0.2.1', false]] as const) {
      expect(isGlobalUnicast6(embed(parseIpv6(text), 3), 3), text).toBe(global);
    }
  });
});

describe('in-place writers', () => {
  it('writeTeredoOrigin writes what the codec encodes and decodes (§5.1.1: 00 00, ~port, ~IPv4)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 9 }), (addr, port, at) => {
        const out = new Uint8Array(at + 12).fill(0xee);
        expect(writeTeredoOrigin(out, at, addr, port)).toBe(at + 8);
        expect(out.subarray(at, at + 8)).toEqual(encodeTeredoOrigin({ addr, port }));
        expect(decodeTeredoOrigin(out, at)).toEqual({ addr: addr | 0, port }); // addresses are int32 (wire/ipv4.ts)
        expect(out[at + 8]).toBe(0xee);
      }),
      { numRuns: 300 },
    );
  });

  it('writeBubbleHeader makes any buffer a bubble (§2.8), hop limit 255 as Miredo sends, addresses left alone', () => {
    const b = new Uint8Array(TEREDO_BUBBLE_LEN).fill(0xab);
    writeBubbleHeader(b);
    expect(isBubble(b)).toBe(true);
    expect([...b.subarray(0, 8)]).toEqual([0x60, 0, 0, 0, 0, 0, 59, 255]);
    expect(b.subarray(8).every((x) => x === 0xab)).toBe(true);
    const view = new TeredoPacketView();
    expect(checkTeredoPayload(view, b, 0, b.length)).toBe(0);
    expect(view.isBubble).toBe(true);
  });
});
