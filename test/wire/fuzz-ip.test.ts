// Fuzzing the IPv6 / UDP / ICMPv6 / ND decoders (smoltcp's packet_parser fuzz target, as property tests): on
// random bytes, on every truncation of valid packets, and on random byte flips of valid packets, a decoder
// may return or throw a WireError, and nothing else.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeDstUnreachable, decodeEcho, decodeIcmpv6, decodeIcmpv6Packet, dstUnreachableMessage, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeIpv6, encodeIpv6 } from '../../src/wire/ipv6.js';
import { decodeNdiscOptions, ndiscOptionEncodedLength } from '../../src/wire/ndisc-options.js';
import { decodeNdisc, encodeNdiscPacket } from '../../src/wire/ndisc.js';
import { decodeUdp, encodeUdp } from './udp.js';
import { MIREDO_RA_IPV6, MIREDO_RS_IPV6 } from '../fakes/miredo-captures.js';
import { expectWireError, onlyWireErrors } from './ip-fixtures.js';

const a = parseIpv6('2001:db8::1');
const b = parseIpv6('fe80::2');

const richRa = encodeNdiscPacket(
  { src: b, dst: parseIpv6('ff02::1'), hopLimit: 255 },
  {
    kind: 'router-advert',
    curHopLimit: 64,
    managed: false,
    otherConfig: true,
    homeAgent: false,
    preference: 3,
    routerLifetimeSec: 1800,
    reachableTimeMs: 0,
    retransTimerMs: 0,
    options: [
      { kind: 'source-ll-addr', linkLayerAddress: new Uint8Array([2, 0, 0, 0, 0, 1]) },
      { kind: 'prefix-info', prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetimeSec: 86400, preferredLifetimeSec: 14400, prefix: parseIpv6('2001:db8:1::') },
      { kind: 'mtu', mtu: 1280 },
      { kind: 'route-info', prefixLength: 48, preference: 1, routeLifetimeSec: 600, prefix: parseIpv6('2001:db8:2::').subarray(0, 8) },
      { kind: 'rdnss', lifetimeSec: 600, servers: [a] },
      { kind: 'dnssl', lifetimeSec: 600, domains: ['example.com', 'a.b.c'] },
      { kind: 'raw', type: 99, data: new Uint8Array(6) },
    ],
  },
);
const ns = encodeNdiscPacket({ src: b, dst: a, hopLimit: 255 }, { kind: 'neighbor-solicit', target: a, options: [{ kind: 'source-ll-addr', linkLayerAddress: new Uint8Array(6) }] });
const na = encodeNdiscPacket({ src: a, dst: b, hopLimit: 255 }, { kind: 'neighbor-advert', router: true, solicited: false, override: true, target: a, options: [] });
const echo = encodeIcmpv6Packet({ src: a, dst: b, hopLimit: 64 }, echoMessage(128, { id: 1, seq: 2, data: new Uint8Array(8) }));
const unreachable = encodeIcmpv6Packet({ src: a, dst: b, hopLimit: 64 }, dstUnreachableMessage({ code: 3, invoking: echo }));
const udp = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: 17, hopLimit: 64, src: a, dst: b }, encodeUdp({ srcPort: 3544, dstPort: 53 }, new Uint8Array(12), { src: a, dst: b }));

const validPackets = [MIREDO_RS_IPV6, MIREDO_RA_IPV6, richRa, ns, na, echo, unreachable, udp];

/** Runs every decoder that could see these bytes, at each layer, and lets only WireError escape. */
function decodeAll(bytes: Uint8Array): void {
  onlyWireErrors(() => decodeIpv6(bytes));
  onlyWireErrors(() => decodeUdp(bytes));
  onlyWireErrors(() => decodeUdp(bytes, { src: a, dst: b }));
  onlyWireErrors(() => decodeIcmpv6(bytes, { src: a, dst: b }));
  onlyWireErrors(() => decodeNdiscOptions(bytes));
  onlyWireErrors(() => {
    const d = decodeIcmpv6Packet(bytes);
    onlyWireErrors(() => decodeNdisc(d.message));
    onlyWireErrors(() => decodeEcho(d.message));
    onlyWireErrors(() => decodeDstUnreachable(d.message));
  });
  // Below the checksum: feed the bytes as the body of every ND type, so mutations reach the option parser.
  for (const type of [1, 128, 129, 133, 134, 135, 136, 137]) {
    const msg = { type, code: 0, body: bytes };
    onlyWireErrors(() => decodeNdisc(msg));
    onlyWireErrors(() => decodeEcho(msg));
    onlyWireErrors(() => decodeDstUnreachable(msg));
  }
}

describe('fuzz: ip decoders throw only WireError', () => {
  it('starts from packets that decode cleanly', () => {
    for (const p of [MIREDO_RS_IPV6, MIREDO_RA_IPV6, richRa, ns, na]) expect(decodeNdisc(decodeIcmpv6Packet(p).message).kind).toMatch(/^(router|neighbor)-/);
    expect(decodeEcho(decodeIcmpv6Packet(echo).message).seq).toBe(2);
    expect(decodeDstUnreachable(decodeIcmpv6Packet(unreachable).message).code).toBe(3);
    expect(decodeUdp(decodeIpv6(udp).payload, { src: a, dst: b }).header.srcPort).toBe(3544);
  });

  it('on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => decodeAll(bytes)), { numRuns: 1000 });
  });

  it('on random bytes that start like an IPv6 packet', () => {
    const ipv6ish = fc.tuple(fc.integer({ min: 0, max: 120 }), fc.uint8Array({ minLength: 40, maxLength: 200 })).map(([plen, rest]) => {
      const bytes = rest.slice();
      bytes[0] = 0x60;
      bytes[4] = 0;
      bytes[5] = plen;
      bytes[6] = 58;
      return bytes;
    });
    fc.assert(fc.property(ipv6ish, (bytes) => decodeAll(bytes)), { numRuns: 1000 });
  });

  it('on every truncation of valid packets, and of their ICMPv6 bodies', () => {
    for (const p of validPackets) {
      for (let n = 0; n <= p.length; n++) {
        decodeAll(p.subarray(0, n));
        if (n >= 44) decodeAll(p.subarray(44, n));
      }
    }
  });

  it('with the expected codes: a cut packet is WIRE_TRUNCATED, a cut RA body keeps only whole options', () => {
    for (const p of validPackets) {
      for (let n = 0; n < p.length; n++) expectWireError(() => decodeIpv6(p.subarray(0, n)), 'WIRE_TRUNCATED');
    }
    const body = decodeIcmpv6Packet(richRa).message.body;
    const boundaries = [12];
    for (const o of decodeNdiscOptions(body.subarray(12))) boundaries.push(boundaries.at(-1)! + ndiscOptionEncodedLength(o));
    for (let n = 0; n < body.length; n++) {
      const cut = { type: 134, code: 0, body: body.subarray(0, n) };
      const whole = boundaries.indexOf(n);
      if (whole >= 0) expect(decodeNdisc(cut).options).toHaveLength(whole);
      else expectWireError(() => decodeNdisc(cut), 'WIRE_TRUNCATED');
    }
  });

  it('on valid packets with random bytes changed', () => {
    const mutated = fc
      .tuple(fc.constantFrom(...validPackets), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }))
      .map(([p, edits]) => {
        const bytes = p.slice();
        for (const [at, v] of edits) bytes[at % bytes.length] = v;
        return bytes;
      });
    fc.assert(
      fc.property(mutated, (bytes) => {
        decodeAll(bytes);
        decodeAll(bytes.subarray(44));
      }),
      { numRuns: 1500 },
    );
  });
});
