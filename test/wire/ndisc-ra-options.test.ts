// RA options beyond RFC 4861 (src/wire/ndisc-options-ra.ts): golden vectors written from the RFC diagrams
// (Advertisement Interval and Home Agent Information RFC 6275 §7.3/§7.4, 6CO and ABRO RFC 6775 §4.2/§4.3,
// Captive Portal RFC 8910 §2.3, PREF64 RFC 8781 §4, DNR RFC 9463 §6.1 with RFC 9460 SvcParams), decoded and
// re-encoded byte for byte; bodies the RFCs say to ignore stay raw. tshark's reading of the same bytes is in
// test/netns/ra-sender-options.test.ts.

import { describe, expect, it } from 'vitest';
import { fromHex, hex } from '../../src/wire/bytes.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeNdiscOptions, encodeNdiscOption, type NdiscOption } from '../../src/wire/ndisc-options.js';
import { pref64ScaledLifetime, svcParamsBytes } from '../../src/wire/ndisc-options-ra.js';
import { expectWireError } from './ip-fixtures.js';

const ADV_INTERVAL = '07 01 0000 0000ea60'; // type 7, 1 unit, reserved, 60000 ms
const HOME_AGENT = '08 01 8000 fffb 0708'; // type 8, 1 unit, R bit (RFC 3963), preference -5, lifetime 1800
// radvd's test1.conf lowpanco (context length 50, C, CID 100 masked to 4, 1000 min), zero prefix, length 3.
const SIXCO_3 = '22 03 32 14 0000 03e8 00000000000000000000000000000000';
const SIXCO_2 = '22 02 40 01 0000 003c 20010db800000000'; // length 2: a /64 context, CID 1, 60 min
// radvd's test1.conf abro: version low 10, high 2, lifetime 2 (x 60 s), 6LBR fe80::a200:0:0:1.
const ABRO = '23 03 000a 0002 0002 fe80000000000000a200000000000001';
// "https://portal.example/" (23 bytes) + 2 = 25, NUL-padded to 32: 4 units.
const CAPTIVE = `25 04 ${hex(new TextEncoder().encode('https://portal.example/'))} 00000000000000`;
const PREF64_96 = '26 02 0708 0064ff9b0000000000000000'; // 1800 s = 225 x 8 (0xe1 << 3), PLC 0 = /96, 64:ff9b::
const PREF64_48 = '26 02 025b 20010db80064000000000000'; // 600 s = 75 x 8 (0x4b << 3 = 0x258), PLC 3 = /48
const DNR_ADN_ONLY = [
  '90 04', //                          type 144, 4 units (28 bytes padded to 32)
  '0001 00000708', //                  priority 1, lifetime 1800
  '0012', //                           ADN length 18
  '08 7265736f6c766572 07 6578616d706c65 00', // resolver.example
  '00000000', //                       padding (ADN-only: no address or SvcParams fields)
].join('');
const DNR_FULL = [
  '90 09', //                          type 144, 9 units (70 bytes padded to 72)
  '0064 00000708', //                  priority 100, lifetime 1800
  '000d 03 646f68 07 6578616d706c65 00', // ADN length 13, doh.example
  '0010 20010db8000000000000000000000053', // Addr length 16, 2001:db8::53
  '001b', //                           SvcParams length 27
  '0001 0003 02 6832', //              alpn = h2
  `0007 0010 ${hex(new TextEncoder().encode('/dns-query{?dns}'))}`, // dohpath (RFC 9461)
  '0000', //                           padding
].join('');

const cases: Array<[string, string, NdiscOption]> = [
  ['advertisement interval', ADV_INTERVAL, { kind: 'adv-interval', intervalMs: 60_000 }],
  ['home agent information', HOME_AGENT, { kind: 'home-agent-info', mobileRouterSupport: true, preference: -5, lifetimeSec: 1800 }],
  ['6LoWPAN context, length 3', SIXCO_3, { kind: '6lowpan-context', contextLength: 50, compression: true, contextId: 4, validLifetimeMin: 1000, prefix: new Uint8Array(16) }],
  ['6LoWPAN context, length 2', SIXCO_2, { kind: '6lowpan-context', contextLength: 64, compression: false, contextId: 1, validLifetimeMin: 60, prefix: parseIpv6('2001:db8::').subarray(0, 8) }],
  ['ABRO', ABRO, { kind: 'abro', versionLow: 10, versionHigh: 2, validLifetimeMin: 2, address: parseIpv6('fe80::a200:0:0:1') }],
  ['captive portal', CAPTIVE, { kind: 'captive-portal', uri: 'https://portal.example/' }],
  ['PREF64 /96', PREF64_96, { kind: 'pref64', scaledLifetime: 225, prefixLength: 96, prefix: parseIpv6('64:ff9b::').subarray(0, 12) }],
  ['PREF64 /48', PREF64_48, { kind: 'pref64', scaledLifetime: 75, prefixLength: 48, prefix: parseIpv6('2001:db8:64::').subarray(0, 12) }],
  ['DNR, ADN-only', DNR_ADN_ONLY, { kind: 'dnr', priority: 1, lifetimeSec: 1800, adn: 'resolver.example', addresses: [], svcParams: new Uint8Array(0) }],
  [
    'DNR with an address and SvcParams',
    DNR_FULL,
    { kind: 'dnr', priority: 100, lifetimeSec: 1800, adn: 'doh.example', addresses: [parseIpv6('2001:db8::53')], svcParams: svcParamsBytes({ alpn: ['h2'], dohpath: '/dns-query{?dns}' }) },
  ],
];

describe('RA options beyond RFC 4861: golden vectors', () => {
  for (const [name, vector, option] of cases) {
    it(`${name}: decodes to the fields and encodes back to the same bytes`, () => {
      const bytes = fromHex(vector);
      expect(decodeNdiscOptions(bytes)).toEqual([option]);
      expect(hex(encodeNdiscOption(option))).toBe(hex(bytes));
    });
  }

  it('PREF64 lifetimes round up to 8-second units and stop at 8191 (RFC 8781 §4)', () => {
    expect([0, 1, 8, 9, 1800, 65_528, 100_000].map(pref64ScaledLifetime)).toEqual([0, 1, 1, 2, 225, 8191, 8191]);
  });

  it('SvcParams carry alpn, port and dohpath in key order (RFC 9460 §2.2)', () => {
    expect(hex(svcParamsBytes({ alpn: ['h2', 'h3'], port: 443, dohpath: '/q' }))).toBe('0001000602683202683300030002 01bb 000700022f71'.replace(/ /g, ''));
  });

  it('keeps bodies the RFCs say to ignore as raw options', () => {
    // PREF64 with PLC 6 (RFC 8781 §4: ignore), and with length 3.
    expect(decodeNdiscOptions(fromHex('26 02 0706 0064ff9b0000000000000000'))).toEqual([{ kind: 'raw', type: 38, data: fromHex('0706 0064ff9b0000000000000000') }]);
    expect(decodeNdiscOptions(fromHex('26 03 0700 0064ff9b0000000000000000 0000000000000000'))[0]!.kind).toBe('raw');
    // ABRO of 2 units; DNR whose ADN length runs past the option.
    expect(decodeNdiscOptions(fromHex('23 02 000a 0002 0002 fe80000000000000'))[0]!.kind).toBe('raw');
    expect(decodeNdiscOptions(fromHex('90 02 0001 00000708 00ff 000000000000'))[0]!.kind).toBe('raw');
  });

  it('refuses what cannot be encoded', () => {
    expectWireError(() => encodeNdiscOption({ kind: 'pref64', scaledLifetime: 1, prefixLength: 60, prefix: new Uint8Array(12) }), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeNdiscOption({ kind: 'home-agent-info', mobileRouterSupport: false, preference: 40_000, lifetimeSec: 1 }), 'WIRE_BAD_VALUE');
    expectWireError(() => encodeNdiscOption({ kind: 'captive-portal', uri: 'https://x/ y' }), 'WIRE_BAD_VALUE');
  });
});
