// Teredo payloads (RFC 4380 §5.1.1): authentication header, origin indication (0000feaefefdfcfb for port 337
// and 1.2.3.4), bubbles and RFC 6081 trailers, on golden Miredo frames; malformed input by code; properties.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  TEREDO_AUTH_MIN_LEN,
  TEREDO_ORIGIN_LEN,
  decodeTeredoOrigin,
  decodeTeredoPayload,
  encodeTeredoOrigin,
  encodeTeredoPayload,
  isBubble,
  teredoAuthEncodedLength,
  teredoPayloadEncodedLength,
  type TeredoPayload,
} from '../../src/wire/teredo-packet.js';
import { TEREDO_CLIENT_LINK_LOCAL, teredoServerLinkLocal } from '../../src/wire/teredo-address.js';
import { ALL_ROUTERS, formatIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { MIREDO_NONCE_HEX as NONCE, MIREDO_RA as RA, MIREDO_RS as RS } from '../fakes/miredo-captures.js';
import { bytesEqual, fromHex, hex } from '../../src/wire/bytes.js';
import { WireError } from '../../src/wire/errors.js';

const wireError = (code: string) => expect.objectContaining({ name: 'WireError', code });

describe('golden: Miredo qualification RS and RA', () => {
  it('decodes the RS: auth header with the nonce, no origin, the whole IPv6 packet, no trailer', () => {
    const p = decodeTeredoPayload(RS);
    expect(p.auth).toBeDefined();
    expect(p.auth!.clientId.length).toBe(0);
    expect(p.auth!.authValue.length).toBe(0);
    expect(hex(p.auth!.nonce)).toBe(NONCE);
    expect(p.auth!.confirmation).toBe(0);
    expect(p.origin).toBeUndefined();
    expect(p.ipv6.length).toBe(48);
    expect(p.trailer.length).toBe(0);
    expect(bytesEqual(p.ipv6.subarray(8, 24), TEREDO_CLIENT_LINK_LOCAL)).toBe(true);
    expect(bytesEqual(p.ipv6.subarray(24, 40), ALL_ROUTERS)).toBe(true);
    expect(isBubble(p.ipv6)).toBe(false);
  });

  it('decodes the RA: same nonce, origin 56287 / 198.18.0.101, source = teredoServerLinkLocal(198.18.0.10)', () => {
    const p = decodeTeredoPayload(RA);
    expect(hex(p.auth!.nonce)).toBe(NONCE);
    expect(p.auth!.confirmation).toBe(0);
    expect(p.origin).toEqual({ port: 56287, addr: parseIpv4('198.18.0.101') });
    expect(p.ipv6.length).toBe(96);
    expect(p.trailer.length).toBe(0);
    const src = p.ipv6.subarray(8, 24);
    expect(formatIpv6(src)).toBe('fe80::8000:f227:39ed:fff5');
    expect(bytesEqual(src, teredoServerLinkLocal(parseIpv4('198.18.0.10')))).toBe(true);
  });

  it('returns zero-copy views into the input', () => {
    const p = decodeTeredoPayload(RA);
    expect(p.ipv6.buffer).toBe(RA.buffer);
    expect(p.ipv6.byteOffset).toBe(TEREDO_AUTH_MIN_LEN + TEREDO_ORIGIN_LEN);
    expect(p.auth!.nonce.buffer).toBe(RA.buffer);
  });

  it.each([
    ['RS', RS],
    ['RA', RA],
  ])('re-encodes the %s byte-exactly, and its length matches', (_name, bytes) => {
    const p = decodeTeredoPayload(bytes);
    expect(teredoPayloadEncodedLength(p)).toBe(bytes.length);
    expect(hex(encodeTeredoPayload(p))).toBe(hex(bytes));
  });

  it('encodes at an offset of a larger buffer and returns a view of exactly the bytes written', () => {
    const out = new Uint8Array(RA.length + 20).fill(0xee);
    const view = encodeTeredoPayload(decodeTeredoPayload(RA), out, 10);
    expect(view.byteOffset).toBe(10);
    expect(hex(view)).toBe(hex(RA));
    expect(out.subarray(0, 10).every((b) => b === 0xee)).toBe(true);
    expect(out.subarray(10 + RA.length).every((b) => b === 0xee)).toBe(true);
  });

  it('a server can rebuild the RA from parts (auth echo + origin + ICMPv6)', () => {
    const rs = decodeTeredoPayload(RS);
    const ra = decodeTeredoPayload(RA);
    const built = encodeTeredoPayload({ auth: rs.auth, origin: { addr: parseIpv4('198.18.0.101'), port: 56287 }, ipv6: ra.ipv6 });
    expect(hex(built)).toBe(hex(RA));
  });
});

describe('origin indication', () => {
  it('port 337 and 1.2.3.4 is 0000feaefefdfcfb (RFC 4380 §5.1.1)', () => {
    const o = { port: 337, addr: parseIpv4('1.2.3.4') };
    expect(hex(encodeTeredoOrigin(o))).toBe('0000feaefefdfcfb');
    expect(decodeTeredoOrigin(fromHex('0000feaefefdfcfb'))).toEqual(o);
  });

  it('decodes at an offset and refuses a non-origin type', () => {
    const o = decodeTeredoOrigin(RA, TEREDO_AUTH_MIN_LEN);
    expect(formatIpv4(o.addr)).toBe('198.18.0.101');
    expect(() => decodeTeredoOrigin(RA, 0)).toThrow(wireError('WIRE_UNEXPECTED_TYPE'));
    expect(() => decodeTeredoOrigin(fromHex('0000feae'))).toThrow(wireError('WIRE_TRUNCATED'));
  });
});

describe('trailers (RFC 6081) and bubbles', () => {
  it('keeps bytes after the IPv6 packet as an opaque trailer and writes them back', () => {
    // An RS followed by a made-up TLV: a longer UDP payload is valid (40 + plen <= length), never rejected.
    const trailer = fromHex('01 04 deadbeef 05 02 1234');
    const withTrailer = new Uint8Array(RS.length + trailer.length);
    withTrailer.set(RS);
    withTrailer.set(trailer, RS.length);
    const p = decodeTeredoPayload(withTrailer);
    expect(p.ipv6.length).toBe(48);
    expect(hex(p.trailer)).toBe(hex(trailer));
    expect(hex(encodeTeredoPayload(p))).toBe(hex(withTrailer));
  });

  it('recognises a bubble: IPv6 header only, next header 59, payload length 0 (RFC 4380 §2.8)', () => {
    const bubble = fromHex('60000000 0000 3b 15' + 'fe800000000000003c85d8135dc29d41' + '20010000c612000a248e2af239edff9a');
    const p = decodeTeredoPayload(bubble);
    expect(isBubble(p.ipv6)).toBe(true);
    expect(p.trailer.length).toBe(0);
    expect(isBubble(fromHex('60000000 0001 3b 15' + '00'.repeat(33)))).toBe(false); // has a payload
    expect(isBubble(fromHex('60000000 0000 3a 15' + '00'.repeat(32)))).toBe(false); // next header ICMPv6
    expect(isBubble(new Uint8Array(39))).toBe(false);
  });

  it('decodes an auth header with a client ID and auth value', () => {
    const bubble = '600000000000' + '3b15' + '00'.repeat(32);
    const bytes = fromHex('0001 02 03 aabb ccddee 0102030405060708 07' + bubble);
    const p = decodeTeredoPayload(bytes);
    expect(hex(p.auth!.clientId)).toBe('aabb');
    expect(hex(p.auth!.authValue)).toBe('ccddee');
    expect(hex(p.auth!.nonce)).toBe('0102030405060708');
    expect(p.auth!.confirmation).toBe(7);
    expect(teredoAuthEncodedLength(p.auth!)).toBe(18);
    expect(hex(encodeTeredoPayload(p))).toBe(hex(bytes));
  });
});

describe('malformed input', () => {
  const bubble = '60000000 0000 3b 15' + '00'.repeat(32);
  it.each([
    ['empty', '', 'WIRE_TRUNCATED'],
    ['one byte', '00', 'WIRE_TRUNCATED'],
    ['IPv4 instead of IPv6', '45000014' + '00'.repeat(36), 'WIRE_BAD_VERSION'],
    ['origin before auth', '0000 feaefefdfcfb' + '0001 0000 0102030405060708 00' + bubble, 'WIRE_BAD_VERSION'],
    ['two origin indications', '0000 feaefefdfcfb 0000 feaefefdfcfb' + bubble, 'WIRE_BAD_VERSION'],
    ['unknown 00 02 header', '0002 0000 0000 0000' + bubble, 'WIRE_BAD_VERSION'],
    ['auth lengths past the end', '0001 ff ff 0102030405060708 00' + bubble, 'WIRE_TRUNCATED'],
    ['IPv6 payload length past the end', '60000000 0010 3a ff' + '00'.repeat(32) + '00'.repeat(15), 'WIRE_TRUNCATED'],
  ])('%s -> %s', (_name, h, code) => {
    expect(() => decodeTeredoPayload(fromHex(h))).toThrow(wireError(code));
  });

  it.each([
    ['RS', RS],
    ['RA', RA],
  ])('every truncation of the %s throws WIRE_TRUNCATED', (_name, bytes) => {
    for (let n = 0; n < bytes.length; n++) expect(() => decodeTeredoPayload(bytes.subarray(0, n))).toThrow(wireError('WIRE_TRUNCATED'));
  });

  it('the encoder refuses what it could not decode back', () => {
    const ipv6 = decodeTeredoPayload(RS).ipv6;
    const nonce = new Uint8Array(8);
    const auth = { clientId: new Uint8Array(0), authValue: new Uint8Array(0), nonce, confirmation: 0 };
    expect(() => encodeTeredoPayload({ ipv6: ipv6.subarray(0, 47) })).toThrow(wireError('WIRE_BAD_LENGTH'));
    expect(() => encodeTeredoPayload({ ipv6: new Uint8Array(48) })).toThrow(wireError('WIRE_BAD_VERSION'));
    expect(() => encodeTeredoPayload({ ipv6: new Uint8Array(20) })).toThrow(wireError('WIRE_BAD_LENGTH'));
    expect(() => encodeTeredoPayload({ ipv6, auth: { ...auth, nonce: new Uint8Array(7) } })).toThrow(wireError('WIRE_BAD_LENGTH'));
    expect(() => encodeTeredoPayload({ ipv6, auth: { ...auth, clientId: new Uint8Array(256) } })).toThrow(wireError('WIRE_BAD_LENGTH'));
    expect(() => encodeTeredoPayload({ ipv6, auth: { ...auth, confirmation: 256 } })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoPayload({ ipv6, origin: { addr: 0, port: 70000 } })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoPayload({ ipv6, origin: { addr: 2 ** 32, port: 1 } })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoPayload({ ipv6, origin: { addr: 0.5, port: 1 } })).toThrow(wireError('WIRE_BAD_VALUE'));
  });
});

// An arbitrary, well-formed payload: any header bytes, version 6, payload length matching the body.
const ipv6Arb = fc.tuple(fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.uint8Array({ maxLength: 120 })).map(([hdr, body]) => {
  const pkt = new Uint8Array(40 + body.length);
  pkt.set(hdr);
  pkt[0] = 0x60 | (hdr[0]! & 0x0f);
  pkt[4] = body.length >> 8;
  pkt[5] = body.length & 0xff;
  pkt.set(body, 40);
  return pkt;
});
const authArb = fc.record({
  clientId: fc.uint8Array({ maxLength: 40 }),
  authValue: fc.uint8Array({ maxLength: 40 }),
  nonce: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  confirmation: fc.integer({ min: 0, max: 255 }),
});
// Origin addresses as int32, the form decode returns (src/wire/ipv4.ts).
const originArb = fc.record({ addr: fc.integer({ min: -0x80000000, max: 0x7fffffff }), port: fc.integer({ min: 0, max: 0xffff }) });
const payloadArb = fc.record({
  auth: fc.option(authArb, { nil: undefined }),
  origin: fc.option(originArb, { nil: undefined }),
  ipv6: ipv6Arb,
  trailer: fc.uint8Array({ maxLength: 40 }),
});

const onlyWireError = (bytes: Uint8Array): void => {
  try {
    decodeTeredoPayload(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(WireError);
  }
};

describe('properties', () => {
  it('decode(encode(p)) equals p, and the encoded length is exact', () => {
    fc.assert(
      fc.property(payloadArb, (p: TeredoPayload) => {
        const bytes = encodeTeredoPayload(p);
        expect(bytes.length).toBe(teredoPayloadEncodedLength(p));
        expect(decodeTeredoPayload(bytes)).toEqual(p);
      }),
    );
  });

  it('decoding random bytes throws nothing but WireError', () => {
    // Random bytes, and random bytes behind each of the three possible starts, so the deeper paths are reached.
    const start = fc.constantFrom(new Uint8Array(0), Uint8Array.of(0, 1), Uint8Array.of(0, 0), Uint8Array.of(0x60));
    fc.assert(
      fc.property(start, fc.uint8Array({ maxLength: 120 }), (s, rest) => {
        const b = new Uint8Array(s.length + rest.length);
        b.set(s);
        b.set(rest, s.length);
        onlyWireError(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('decoding a truncated or corrupted valid payload throws nothing but WireError', () => {
    fc.assert(
      fc.property(payloadArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (p, cut, at, value) => {
        const bytes = encodeTeredoPayload(p);
        onlyWireError(bytes.subarray(0, cut % (bytes.length + 1)));
        const corrupt = bytes.slice();
        corrupt[at % corrupt.length] = value;
        onlyWireError(corrupt);
      }),
    );
  });
});
