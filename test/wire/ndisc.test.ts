// Neighbor Discovery (RFC 4861 §4) and its options (SLLA/TLLA, Prefix Information, MTU, Route Information
// RFC 4191, RDNSS/DNSSL RFC 8106): golden vectors, unknown options kept raw, malformed input, properties.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../src/wire/bytes.js';
import { decodeIcmpv6Packet, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import {
  INFINITE_LIFETIME,
  ROUTE_PREFERENCE,
  decodeNdiscOptions,
  encodeNdiscOption,
  ndiscOptionEncodedLength,
  type NdiscOption,
  type RoutePreference,
} from '../../src/wire/ndisc-options.js';
import {
  NDISC_HOP_LIMIT,
  decodeNdisc,
  encodeNdisc,
  encodeNdiscPacket,
  ndiscEncodedLength,
  ndiscMessage,
  ndiscPacketEncodedLength,
  type NdiscMessage,
  type RouterAdvert,
} from '../../src/wire/ndisc.js';
import { MIREDO_RA_IPV6, MIREDO_RS_IPV6 } from '../fakes/miredo-captures.js';
import { expectWireError } from './ip-fixtures.js';

const ll1 = parseIpv6('fe80::1');
const mac1 = fromHex('020000000001');

// ---- Annotated option vectors (RFC diagrams). Each was also checked with tshark, as part of RICH_RA_PACKET. ----

const SLLA = fromHex('01 01 020000000001'); // type 1, 1 unit, MAC 02:00:00:00:00:01
const MTU = fromHex('05 01 0000 000005c8'); // type 5, 1 unit, reserved, MTU 1480
const PIO = fromHex(
  [
    '03 04 40', //  type 3, 4 units, prefix length 64
    'c0', //        L and A set, R clear
    '00015180', //  valid lifetime 86400
    '00003840', //  preferred lifetime 14400
    '00000000', //  reserved
    '20010db8000100000000000000000000', // prefix 2001:db8:1::
  ].join(''),
);
const RIO_DEFAULT = fromHex('18 01 00 18 00000258'); // type 24, 1 unit, ::/0, Prf low (11 << 3), lifetime 600
const RIO_48 = fromHex('18 02 30 08 ffffffff 20010db800020000'); // 2 units, /48, Prf high, infinite, 8 prefix bytes
const RIO_96 = fromHex('18 03 60 00 000004b0 20010db8000300040005000600000000'); // 3 units, /96, medium, 1200 s
const RDNSS = fromHex(
  [
    '19 05 0000', // type 25, 5 units (1 + 2 x 2 addresses), reserved
    '00000708', //   lifetime 1800
    '20010db8000000000000000000000053', // 2001:db8::53
    '20010db8000000000000000000000054', // 2001:db8::54
  ].join(''),
);
const DNSSL = fromHex(
  [
    '1f 05 0000', // type 31, 5 units, reserved
    '00000708', //   lifetime 1800
    '07 6578616d706c65 03 636f6d 00', //         example.com
    '03 6c6162 07 6578616d706c65 03 6f7267 00', // lab.example.org
    '0000', //       zero padding to 40 bytes (8 + 13 + 17 = 38)
  ].join(''),
);
const UNKNOWN = fromHex('c8 01 0102030405 00'); // type 200, 1 unit: kept raw, trailing byte included

const richOptions: NdiscOption[] = [
  { kind: 'source-ll-addr', linkLayerAddress: mac1 },
  { kind: 'mtu', mtu: 1480 },
  { kind: 'prefix-info', prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetimeSec: 86400, preferredLifetimeSec: 14400, prefix: parseIpv6('2001:db8:1::') },
  { kind: 'route-info', prefixLength: 0, preference: ROUTE_PREFERENCE.LOW, routeLifetimeSec: 600, prefix: new Uint8Array(0) },
  { kind: 'route-info', prefixLength: 48, preference: ROUTE_PREFERENCE.HIGH, routeLifetimeSec: INFINITE_LIFETIME, prefix: parseIpv6('2001:db8:2::').subarray(0, 8) },
  { kind: 'route-info', prefixLength: 96, preference: ROUTE_PREFERENCE.MEDIUM, routeLifetimeSec: 1200, prefix: parseIpv6('2001:db8:3:4:5:6::') },
  { kind: 'rdnss', lifetimeSec: 1800, servers: [parseIpv6('2001:db8::53'), parseIpv6('2001:db8::54')] },
  { kind: 'dnssl', lifetimeSec: 1800, domains: ['example.com', 'lab.example.org'] },
  { kind: 'raw', type: 200, data: fromHex('010203040500') },
];
const richVectors = [SLLA, MTU, PIO, RIO_DEFAULT, RIO_48, RIO_96, RDNSS, DNSSL, UNKNOWN];

const richRa: RouterAdvert = {
  kind: 'router-advert',
  curHopLimit: 64,
  managed: true,
  otherConfig: false,
  homeAgent: true,
  preference: ROUTE_PREFERENCE.HIGH,
  routerLifetimeSec: 1800,
  reachableTimeMs: 30000,
  retransTimerMs: 1000,
  options: richOptions,
};

// fe80::1 -> ff02::1; tshark decodes every option above and reports checksum 0xf611 [correct].
const RICH_RA_PACKET = fromHex(
  [
    '60000000 00c8 3a ff', //     IPv6: payload 200, ICMPv6, hop limit 255
    'fe800000000000000000000000000001',
    'ff020000000000000000000000000001',
    '86 00 f611', //              type 134, code 0, checksum
    '40', //                      cur hop limit 64
    'a8', //                      M (0x80) + H (0x20) + Prf high (01 << 3)
    '0708', //                    router lifetime 1800
    '00007530', //                reachable time 30000
    '000003e8', //                retrans timer 1000
    ...richVectors.map(hex),
  ].join(''),
);

// RS with SLLA, NS and NA: fe80::1 / 2001:db8::2; tshark checksums 0x7a2d, 0x4b5f, 0x59a9 [correct].
const RS_SLLA_PACKET = fromHex('60000000 0010 3a ff fe800000000000000000000000000001 ff020000000000000000000000000001 85 00 7a2d 00000000 010102000000 0001');
const NS_PACKET = fromHex(
  [
    '60000000 0020 3a ff fe800000000000000000000000000001 ff0200000000000000000001ff000002', // to the solicited-node group
    '87 00 4b5f 00000000', //                   type 135, reserved
    '20010db8000000000000000000000002', //      target 2001:db8::2
    '01 01 020000000001', //                    SLLA
  ].join(''),
);
const NA_PACKET = fromHex(
  [
    '60000000 0020 3a ff 20010db8000000000000000000000002 fe800000000000000000000000000001',
    '88 00 59a9', //                            type 136
    'c0 000000', //                             R and S set, O clear, reserved
    '20010db8000000000000000000000002', //      target
    '02 01 020000000002', //                    TLLA 02:00:00:00:00:02
  ].join(''),
);

describe('ndisc golden vectors', () => {
  it('decodes the Miredo RS: no options', () => {
    const d = decodeIcmpv6Packet(MIREDO_RS_IPV6);
    expect(decodeNdisc(d.message)).toEqual({ kind: 'router-solicit', options: [] });
  });

  it('decodes the Miredo RA field by field', () => {
    const d = decodeIcmpv6Packet(MIREDO_RA_IPV6);
    expect(d.message.checksum).toBe(0x954c);
    const ra = decodeNdisc(d.message);
    expect(ra).toEqual({
      kind: 'router-advert',
      curHopLimit: 0,
      managed: false,
      otherConfig: false,
      homeAgent: false,
      preference: ROUTE_PREFERENCE.MEDIUM,
      routerLifetimeSec: 0,
      reachableTimeMs: 0,
      retransTimerMs: 2000,
      options: [
        { kind: 'prefix-info', prefixLength: 64, onLink: false, autonomous: true, routerAddress: false, validLifetimeSec: INFINITE_LIFETIME, preferredLifetimeSec: INFINITE_LIFETIME, prefix: parseIpv6('2001:0:c612:a::') },
        { kind: 'mtu', mtu: 1280 },
      ],
    });
  });

  it('re-encodes the Miredo RS and RA byte-exactly with encodeNdiscPacket', () => {
    for (const packet of [MIREDO_RS_IPV6, MIREDO_RA_IPV6]) {
      const d = decodeIcmpv6Packet(packet);
      const again = encodeNdiscPacket({ src: d.header.src, dst: d.header.dst, hopLimit: NDISC_HOP_LIMIT }, decodeNdisc(d.message));
      expect(hex(again)).toBe(hex(packet));
    }
  });

  it('decodes each annotated option and encodes it back byte-exactly', () => {
    richVectors.forEach((bytes, i) => {
      const [opt] = decodeNdiscOptions(bytes);
      expect(opt).toEqual(richOptions[i]);
      expect(ndiscOptionEncodedLength(opt!)).toBe(bytes.length);
      expect(hex(encodeNdiscOption(opt!))).toBe(hex(bytes));
    });
  });

  it('builds the rich RA packet byte-exactly and decodes it back', () => {
    expect(hex(encodeNdiscPacket({ src: ll1, dst: parseIpv6('ff02::1'), hopLimit: 255 }, richRa))).toBe(hex(RICH_RA_PACKET));
    expect(decodeNdisc(decodeIcmpv6Packet(RICH_RA_PACKET).message)).toEqual(richRa);
  });

  it('handles RS with SLLA, NS and NA', () => {
    const rs: NdiscMessage = { kind: 'router-solicit', options: [{ kind: 'source-ll-addr', linkLayerAddress: mac1 }] };
    const ns: NdiscMessage = { kind: 'neighbor-solicit', target: parseIpv6('2001:db8::2'), options: [{ kind: 'source-ll-addr', linkLayerAddress: mac1 }] };
    const na: NdiscMessage = {
      kind: 'neighbor-advert',
      router: true,
      solicited: true,
      override: false,
      target: parseIpv6('2001:db8::2'),
      options: [{ kind: 'target-ll-addr', linkLayerAddress: fromHex('020000000002') }],
    };
    for (const [packet, m] of [[RS_SLLA_PACKET, rs], [NS_PACKET, ns], [NA_PACKET, na]] as const) {
      const d = decodeIcmpv6Packet(packet);
      expect(decodeNdisc(d.message)).toEqual(m);
      expect(hex(encodeNdiscPacket({ src: d.header.src, dst: d.header.dst, hopLimit: 255 }, m))).toBe(hex(packet));
    }
    expect(formatIpv6(decodeIcmpv6Packet(NS_PACKET).header.dst)).toBe('ff02::1:ff00:2');
  });
});

describe('ndisc options: malformed and unusual input', () => {
  const rsWith = (opts: string): Uint8Array => fromHex('00000000' + opts.replace(/\s/g, ''));
  const rs = (opts: string) => decodeNdisc({ type: 133, code: 0, body: rsWith(opts) });

  it('rejects a zero-length option (RFC 4861 §4.6) and an option running past the end', () => {
    expectWireError(() => rs('0101 020000000001 0500 00000000'), 'WIRE_BAD_LENGTH');
    expectWireError(() => rs('0304 40c0 0001518000003840'), 'WIRE_TRUNCATED');
    expectWireError(() => rs('0101 020000000001 05'), 'WIRE_TRUNCATED');
  });

  it('keeps options it cannot interpret raw, and re-emits them byte-exactly', () => {
    const cases = [
      '0303 40c0 00015180 00003840 00000000 20010db800010000', // PIO of 3 units, not 4
      '0502 0000000005c8 0000000000000000', //             MTU of 2 units
      '1802 60 00 000004b0 20010db800030004', //           RIO /96 in 2 units (RFC 4191: ignore)
      '1804 00 00 00000000' + '00'.repeat(24), //          RIO of 4 units
      '1904 0000 00000708' + '00'.repeat(24), //           RDNSS with an even length
      '1901 0000 00000708', //                             RDNSS with no address
      '1f02 0000 00000708 c00c000000000000', //            DNSSL with a compression pointer
      '1f02 0000 00000708 0161000000000001', //            DNSSL padding that is not zero
      '1f02 0000 00000708 0000000000000000', //            DNSSL with no name
      '1f02 0000 00000708 0761626364656667', //            DNSSL label running past the end
      '1f02 0000 00000708 0361 2e63 00000000', //          DNSSL label containing '.'
      '1f01 0000 00000708', //                             DNSSL of 1 unit
      '0001 000000000000', //                              type 0 (reserved)
    ];
    for (const c of cases) {
      const m = rs(c);
      expect(m.options).toHaveLength(1);
      expect(m.options[0]!.kind, c).toBe('raw');
      expect(hex(encodeNdisc(m)), c).toBe(hex(rsWith(c)));
    }
  });

  it('keeps a longer link-layer address whole, padding included', () => {
    const [opt] = rs('0102 0011223344556677 000000000000').options;
    expect(opt).toEqual({ kind: 'source-ll-addr', linkLayerAddress: fromHex('0011223344556677000000000000') });
  });

  it('ignores reserved bits on decode and sends them as zero', () => {
    const body = fromHex('40 ac 0708 00007530 000003e8'); // flags 0xac: M, H, Prf high, and the Proxy bit (0x04)
    const ra = decodeNdisc({ type: 134, code: 0, body });
    expect(ra).toMatchObject({ managed: true, homeAgent: true, preference: 1 });
    expect(hex(encodeNdisc(ra))).toBe('40a8070800007530000003e8');
  });

  it('rejects a short fixed part and types that are not RS/RA/NS/NA', () => {
    expectWireError(() => decodeNdisc({ type: 134, code: 0, body: new Uint8Array(11) }), 'WIRE_TRUNCATED');
    expectWireError(() => decodeNdisc({ type: 135, code: 0, body: new Uint8Array(19) }), 'WIRE_TRUNCATED');
    expectWireError(() => decodeNdisc({ type: 133, code: 0, body: new Uint8Array(3) }), 'WIRE_TRUNCATED');
    expectWireError(() => decodeNdisc({ type: 137, code: 0, body: new Uint8Array(40) }), 'WIRE_UNEXPECTED_TYPE');
  });
});

describe('ndisc encoding', () => {
  it('pads DNSSL to 8 bytes, accepts a trailing dot, and refuses names DNS cannot carry', () => {
    const enc = (domains: string[]) => encodeNdiscOption({ kind: 'dnssl', lifetimeSec: 1, domains });
    expect(hex(enc(['a.b.']))).toBe('1f02000000000001' + '0161016200000000');
    for (const bad of [[], [''], ['a..b'], ['x'.repeat(64)], ['caf\u00e9.fr'], ['a b'], [Array(128).fill('a').join('.')]]) {
      expectWireError(() => enc(bad), 'WIRE_BAD_VALUE');
    }
  });

  it('refuses values that do not fit their fields', () => {
    const bad: NdiscOption[] = [
      { kind: 'route-info', prefixLength: 0, preference: 0, routeLifetimeSec: 0, prefix: new Uint8Array(4) },
      { kind: 'route-info', prefixLength: 65, preference: 0, routeLifetimeSec: 0, prefix: new Uint8Array(8) },
      { kind: 'route-info', prefixLength: 0, preference: 4 as RoutePreference, routeLifetimeSec: 0, prefix: new Uint8Array(0) },
      { kind: 'prefix-info', prefixLength: 129, onLink: true, autonomous: true, routerAddress: false, validLifetimeSec: 0, preferredLifetimeSec: 0, prefix: new Uint8Array(16) },
      { kind: 'prefix-info', prefixLength: 64, onLink: true, autonomous: true, routerAddress: false, validLifetimeSec: 2 ** 32, preferredLifetimeSec: 0, prefix: new Uint8Array(16) },
      { kind: 'rdnss', lifetimeSec: 0, servers: [] },
      { kind: 'rdnss', lifetimeSec: 0, servers: [new Uint8Array(15)] },
      { kind: 'source-ll-addr', linkLayerAddress: new Uint8Array(0) },
      { kind: 'mtu', mtu: -1 },
      { kind: 'raw', type: 300, data: new Uint8Array(6) },
      { kind: 'raw', type: 9, data: new Uint8Array(2039) },
    ];
    for (const o of bad) expectWireError(() => encodeNdiscOption(o), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeNdisc({ ...richRa, curHopLimit: 256 }), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeNdisc({ ...richRa, routerLifetimeSec: 0x10000 }), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeNdisc({ kind: 'neighbor-solicit', target: new Uint8Array(15), options: [] }), 'WIRE_BAD_VALUE');
  });

  it('writes encodedLength bytes at an offset without touching its neighbours', () => {
    const out = new Uint8Array(400).fill(0xee);
    const body = encodeNdisc(richRa, out, 33);
    expect(body.byteOffset).toBe(33);
    expect(body.length).toBe(ndiscEncodedLength(richRa));
    expect(hex(body)).toBe(hex(RICH_RA_PACKET.subarray(44)));
    expect(out[32]).toBe(0xee);
    expect(out[33 + body.length]).toBe(0xee);

    const packet = encodeNdiscPacket({ src: ll1, dst: parseIpv6('ff02::1'), hopLimit: 255 }, richRa, out, 3);
    expect(packet.length).toBe(ndiscPacketEncodedLength(richRa));
    expect(hex(packet)).toBe(hex(RICH_RA_PACKET));
    expect(out[2]).toBe(0xee);
  });

  it('gives the same packet through ndiscMessage + encodeIcmpv6Packet', () => {
    const params = { src: ll1, dst: parseIpv6('ff02::1'), hopLimit: 255 };
    expect(hex(encodeIcmpv6Packet(params, ndiscMessage(richRa)))).toBe(hex(RICH_RA_PACKET));
  });
});

// ---- Property tests: encode then decode is the identity for valid values ----

const u8 = fc.integer({ min: 0, max: 0xff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const addr = fc.uint8Array({ minLength: 16, maxLength: 16 });
const pref = fc.constantFrom<RoutePreference>(0, 1, 2, 3);
// Lengths that need no padding, so decode gives back exactly what was encoded.
const unpadded = fc.integer({ min: 0, max: 3 }).chain((k) => fc.uint8Array({ minLength: 8 * k + 6, maxLength: 8 * k + 6 }));
const labelChar = fc.integer({ min: 0x21, max: 0x7e }).filter((c) => c !== 0x2e).map((c) => String.fromCharCode(c));
const domain = fc
  .array(fc.string({ unit: labelChar, minLength: 1, maxLength: 63 }), { minLength: 1, maxLength: 4 })
  .map((labels) => labels.join('.'))
  .filter((d) => d.length + 2 <= 255);
const rioPrefix = fc.constantFrom(0, 8, 16).chain((n) => fc.tuple(fc.uint8Array({ minLength: n, maxLength: n }), fc.integer({ min: 0, max: n * 8 })));

const option: fc.Arbitrary<NdiscOption> = fc.oneof(
  fc.record({ kind: fc.constantFrom('source-ll-addr' as const, 'target-ll-addr' as const), linkLayerAddress: unpadded }),
  fc.record({
    kind: fc.constant('prefix-info' as const),
    prefixLength: fc.integer({ min: 0, max: 128 }),
    onLink: fc.boolean(),
    autonomous: fc.boolean(),
    routerAddress: fc.boolean(),
    validLifetimeSec: u32,
    preferredLifetimeSec: u32,
    prefix: addr,
  }),
  fc.record({ kind: fc.constant('mtu' as const), mtu: u32 }),
  fc.tuple(rioPrefix, pref, u32).map(([[prefix, prefixLength], preference, routeLifetimeSec]) => ({ kind: 'route-info' as const, prefixLength, preference, routeLifetimeSec, prefix })),
  fc.record({ kind: fc.constant('rdnss' as const), lifetimeSec: u32, servers: fc.array(addr, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('dnssl' as const), lifetimeSec: u32, domains: fc.array(domain, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('raw' as const), type: u8.filter((t) => ![1, 2, 3, 5, 7, 8, 24, 25, 31, 34, 35, 37, 38, 144].includes(t)), data: unpadded }),
);
const options = fc.array(option, { maxLength: 6 });

const message: fc.Arbitrary<NdiscMessage> = fc.oneof(
  fc.record({ kind: fc.constant('router-solicit' as const), options }),
  fc.record({
    kind: fc.constant('router-advert' as const),
    curHopLimit: u8,
    managed: fc.boolean(),
    otherConfig: fc.boolean(),
    homeAgent: fc.boolean(),
    preference: pref,
    routerLifetimeSec: fc.integer({ min: 0, max: 0xffff }),
    reachableTimeMs: u32,
    retransTimerMs: u32,
    options,
  }),
  fc.record({ kind: fc.constant('neighbor-solicit' as const), target: addr, options }),
  fc.record({ kind: fc.constant('neighbor-advert' as const), router: fc.boolean(), solicited: fc.boolean(), override: fc.boolean(), target: addr, options }),
);

describe('ndisc properties', () => {
  it('decode(encode(m)) = m for random messages, and the length matches', () => {
    fc.assert(
      fc.property(message, (m) => {
        const body = encodeNdisc(m);
        expect(body.length).toBe(ndiscEncodedLength(m));
        expect(decodeNdisc(ndiscMessage(m))).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips whole packets with a verified checksum', () => {
    fc.assert(
      fc.property(addr, addr, message, (src, dst, m) => {
        const d = decodeIcmpv6Packet(encodeNdiscPacket({ src, dst, hopLimit: 255 }, m));
        expect(d.header.hopLimit).toBe(255);
        expect(decodeNdisc(d.message)).toEqual(m);
      }),
      { numRuns: 200 },
    );
  });
});
