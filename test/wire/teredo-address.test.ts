// Teredo addresses (RFC 4380 §4, RFC 5991 flags): the seed vector 2001:0:1117:34fa:1027:374b:e1fc:f635,
// the well-known link-local addresses, flags and random bits, errors, encode/decode properties.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  TEREDO_CLIENT_LINK_LOCAL,
  TEREDO_CLIENT_LINK_LOCAL_CONE,
  TEREDO_FLAG_CONE,
  TEREDO_FLAG_RESERVED,
  TEREDO_FLAGS_UG,
  TEREDO_PREFIX,
  TEREDO_PREFIX_LEN,
  TEREDO_RANDOM_MASK,
  decodeTeredoAddress,
  encodeTeredoAddress,
  isTeredo,
  teredoFlagsAt,
  teredoFlags,
  teredoLinkLocal,
  teredoMappingIsGlobal,
  teredoRandomBits,
  teredoServerIsGlobal,
  teredoServerLinkLocal,
} from '../../src/wire/teredo-address.js';
import { formatIpv6, inPrefix6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { formatIpv4, parseIpv4 } from '../../src/wire/ipv4.js';
import { WireError } from '../../src/wire/errors.js';
import { hex } from '../../src/wire/bytes.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';

const wireError = (code: string) => expect.objectContaining({ name: 'WireError', code });

describe('Teredo address golden vectors', () => {
  // Seed 002: 2001:0:1117:34fa | 1027 | 374b | e1fc:f635
  //   server 0x111734fa = 17.23.52.250, flags 0x1027, port ~0x374b = 0xc8b4 = 51380, IPv4 ~0xe1fcf635 = 30.3.9.202
  const SEED = '2001:0:1117:34fa:1027:374b:e1fc:f635';

  it('decodes the seed address', () => {
    const a = decodeTeredoAddress(parseIpv6(SEED));
    expect(formatIpv4(a.server)).toBe('17.23.52.250');
    expect(a.flags).toBe(0x1027);
    expect(a.cone).toBe(false);
    // 0x1027 = 0 0 0100 0 0 00100111: A bits 0100 (high) and 00100111 (low) -> 0x427
    expect(a.randomBits).toBe(0x427);
    expect(a.mappedPort).toBe(51380);
    expect(formatIpv4(a.mappedAddr)).toBe('30.3.9.202');
  });

  it('encodes it back, from flags or from cone + random bits', () => {
    const base = { server: parseIpv4('17.23.52.250'), mappedPort: 51380, mappedAddr: parseIpv4('30.3.9.202') };
    expect(formatIpv6(encodeTeredoAddress({ ...base, flags: 0x1027 }))).toBe(SEED);
    expect(formatIpv6(encodeTeredoAddress({ ...base, cone: false, randomBits: 0x427 }))).toBe(SEED);
    expect(formatIpv6(encodeTeredoAddress(decodeTeredoAddress(parseIpv6(SEED))))).toBe(SEED);
  });

  it('obfuscates like the Microsoft documentation example (port 5000 -> ec77, 131.107.0.1 -> 7c94:fffe)', () => {
    const a = encodeTeredoAddress({ server: parseIpv4('65.54.227.120'), cone: true, mappedPort: 5000, mappedAddr: parseIpv4('131.107.0.1') });
    expect(formatIpv6(a)).toBe('2001:0:4136:e378:8000:ec77:7c94:fffe');
  });

  it('decodes the Miredo lab client address 2001:0:c612:a:248e:2af2:39ed:ff9a', () => {
    // research/miredo-packets.txt: the cli-prc client behind NAT 198.18.0.101, server 198.18.0.10
    const a = decodeTeredoAddress(parseIpv6('2001:0:c612:a:248e:2af2:39ed:ff9a'));
    expect(formatIpv4(a.server)).toBe('198.18.0.10');
    expect(formatIpv4(a.mappedAddr)).toBe('198.18.0.101');
    expect(a.mappedPort).toBe(0xd50d);
    expect(a.flags & ~TEREDO_RANDOM_MASK).toBe(0); // Miredo sets random bits only: no C, R, U or G
  });
});

describe('well-known link-local addresses', () => {
  it('uses the RFC 4380 port 3544 (0xf227 once inverted)', () => {
    expect(TEREDO_PORT ^ 0xffff).toBe(0xf227);
  });

  it('server RA source is fe80::8000:f227:<~server IPv4> (RFC 4380 §5.3.2)', () => {
    expect(formatIpv6(teredoServerLinkLocal(parseIpv4('198.18.0.10')))).toBe('fe80::8000:f227:39ed:fff5');
    expect(formatIpv6(teredoServerLinkLocal(parseIpv4('17.23.52.250')))).toBe('fe80::8000:f227:eee8:cb05');
  });

  it('the Vista+ client RS source is fe80::ffff:ffff:ffff, the XP cone one fe80::8000:5445:5245:444f', () => {
    expect(formatIpv6(TEREDO_CLIENT_LINK_LOCAL)).toBe('fe80::ffff:ffff:ffff');
    expect(formatIpv6(TEREDO_CLIENT_LINK_LOCAL_CONE)).toBe('fe80::8000:5445:5245:444f');
    expect(teredoFlagsAt(TEREDO_CLIENT_LINK_LOCAL) & TEREDO_FLAG_CONE).toBe(0);
    expect(teredoFlagsAt(TEREDO_CLIENT_LINK_LOCAL_CONE) & TEREDO_FLAG_CONE).toBe(TEREDO_FLAG_CONE);
  });

  it('teredoLinkLocal puts the Teredo interface id under fe80::/64', () => {
    const ll = teredoLinkLocal({ cone: true, mappedPort: 0, mappedAddr: 0 });
    expect(formatIpv6(ll)).toBe('fe80::8000:ffff:ffff:ffff');
    expect(isTeredo(ll)).toBe(false);
    expect(() => decodeTeredoAddress(ll)).toThrow(wireError('WIRE_BAD_ADDRESS'));
  });
});

describe('flags (RFC 5991 layout C R A A A A U G A A A A A A A A)', () => {
  it('C, R, U G and the 12 A bits split the 16-bit word without overlap', () => {
    const parts = [TEREDO_FLAG_CONE, TEREDO_FLAG_RESERVED, TEREDO_FLAGS_UG, TEREDO_RANDOM_MASK];
    expect(parts.reduce((a, b) => a | b)).toBe(0xffff);
    expect(parts.reduce((a, b) => a + b)).toBe(0xffff);
  });

  it('never sets R, U or G, whatever the cone flag and random bits', () => {
    for (let r = 0; r <= 0xfff; r++) {
      for (const cone of [false, true]) expect(teredoFlags({ cone, randomBits: r }) & (TEREDO_FLAG_RESERVED | TEREDO_FLAGS_UG)).toBe(0);
    }
  });

  it('places the 12 random bits around R, U and G', () => {
    expect(teredoFlags({})).toBe(0);
    expect(teredoFlags({ cone: true })).toBe(0x8000);
    expect(teredoFlags({ randomBits: 0xfff })).toBe(TEREDO_RANDOM_MASK);
    expect(teredoFlags({ randomBits: 0x800 })).toBe(0x2000);
    expect(teredoFlags({ randomBits: 0x100 })).toBe(0x0400);
    expect(teredoFlags({ randomBits: 0x0ff })).toBe(0x00ff);
    expect(teredoFlags({ cone: true, randomBits: 0x427 })).toBe(0x9027);
  });

  it('teredoRandomBits inverts teredoFlags for every 12-bit value', () => {
    for (let r = 0; r <= 0xfff; r++) expect(teredoRandomBits(teredoFlags({ randomBits: r }))).toBe(r);
  });

  it('rejects random bits outside 0..4095', () => {
    for (const r of [-1, 4096, 1.5, NaN]) expect(() => teredoFlags({ randomBits: r })).toThrow(wireError('WIRE_BAD_VALUE'));
  });
});

describe('isTeredo', () => {
  it('is 2001:0::/32 only', () => {
    expect(inPrefix6(parseIpv6('2001:0:1::1'), TEREDO_PREFIX, TEREDO_PREFIX_LEN)).toBe(true);
    expect(isTeredo(parseIpv6('2001::'))).toBe(true);
    expect(isTeredo(parseIpv6('2001:0:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe(true);
    expect(isTeredo(parseIpv6('2001:1::'))).toBe(false);
    expect(isTeredo(parseIpv6('2001:db8::1'))).toBe(false);
    expect(isTeredo(parseIpv6('2002:c612:a::1'))).toBe(false);
    // The pre-RFC experimental prefix of early XP builds is not accepted.
    expect(isTeredo(parseIpv6('3ffe:831f:1117:34fa:1027:374b:e1fc:f635'))).toBe(false);
  });

  it('looks at 16 bytes at an offset, and is false when fewer remain', () => {
    const buf = new Uint8Array(20);
    buf.set(parseIpv6('2001:0:1::'), 4);
    expect(isTeredo(buf, 4)).toBe(true);
    expect(isTeredo(buf, 5)).toBe(false);
    expect(isTeredo(parseIpv6('2001::').subarray(0, 15))).toBe(false);
  });
});

describe('teredoServerIsGlobal / teredoMappingIsGlobal (§5.2.4), read in place', () => {
  const at = (server: string, mapped: string, port: number): Uint8Array => {
    const buf = new Uint8Array(20);
    encodeTeredoAddress({ server: parseIpv4(server), mappedAddr: parseIpv4(mapped), mappedPort: port }, buf, 3);
    return buf;
  };

  it('checks the embedded server and the de-obfuscated mapping apart', () => {
    expect([teredoServerIsGlobal(at('198.18.0.10', '198.18.0.101', 40000), 3), teredoMappingIsGlobal(at('198.18.0.10', '198.18.0.101', 40000), 3)]).toEqual([true, true]);
    expect([teredoServerIsGlobal(at('10.9.9.9', '198.18.0.101', 40000), 3), teredoMappingIsGlobal(at('10.9.9.9', '198.18.0.101', 40000), 3)]).toEqual([false, true]);
    expect([teredoServerIsGlobal(at('198.18.0.10', '192.168.3.1', 40000), 3), teredoMappingIsGlobal(at('198.18.0.10', '192.168.3.1', 40000), 3)]).toEqual([true, false]);
    expect(teredoMappingIsGlobal(at('198.18.0.10', '198.18.0.101', 0), 3)).toBe(false); // port 0
  });

  it('allowNonGlobal relaxes both to any unicast', () => {
    expect(teredoServerIsGlobal(at('10.0.0.1', '10.0.0.2', 5), 3, true)).toBe(true);
    expect(teredoMappingIsGlobal(at('10.0.0.1', '10.0.0.2', 5), 3, true)).toBe(true);
    expect(teredoServerIsGlobal(at('127.0.0.1', '10.0.0.2', 5), 3, true)).toBe(false);
  });
});

describe('decode / encode errors', () => {
  it('decode refuses non-Teredo and short input', () => {
    expect(() => decodeTeredoAddress(parseIpv6('2001:db8::1'))).toThrow(wireError('WIRE_BAD_ADDRESS'));
    expect(() => decodeTeredoAddress(new Uint8Array(15))).toThrow(wireError('WIRE_TRUNCATED'));
  });

  it('encode refuses out-of-range fields and contradictory flags', () => {
    const ok = { server: 1, mappedPort: 1, mappedAddr: 1 };
    expect(() => encodeTeredoAddress({ ...ok, mappedPort: 65536 })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, mappedPort: -1 })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, server: 2 ** 32 })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, mappedAddr: -(2 ** 31) - 1 })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, mappedAddr: 1.5 })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, flags: 0x10000 })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, flags: 0x8000, cone: false })).toThrow(wireError('WIRE_BAD_VALUE'));
    expect(() => encodeTeredoAddress({ ...ok, flags: 0x0001, randomBits: 2 })).toThrow(wireError('WIRE_BAD_VALUE'));
  });

  it('encodes in place at an offset without touching neighbours', () => {
    const buf = new Uint8Array(20).fill(0xee);
    const view = encodeTeredoAddress({ server: 0x111734fa, flags: 0x1027, mappedPort: 51380, mappedAddr: 0x1e0309ca }, buf, 2);
    expect(hex(buf)).toBe('eeee' + '20010000111734fa1027374be1fcf635' + 'eeee');
    expect(view.byteOffset).toBe(2);
    expect(decodeTeredoAddress(buf, 2).mappedPort).toBe(51380);
  });
});

describe('properties', () => {
  it('decode then encode is the identity on every Teredo address', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 12, maxLength: 12 }), (tail) => {
        const addr = new Uint8Array(16);
        addr.set(TEREDO_PREFIX.subarray(0, 4));
        addr.set(tail, 4);
        expect(encodeTeredoAddress(decodeTeredoAddress(addr))).toEqual(addr);
      }),
    );
  });

  it('encode then decode is the identity on every field combination', () => {
    const u32 = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(u32, fc.boolean(), fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xffff }), u32, (server, cone, randomBits, mappedPort, mappedAddr) => {
        const a = decodeTeredoAddress(encodeTeredoAddress({ server, cone, randomBits, mappedPort, mappedAddr }));
        // Decoded addresses are int32 (src/wire/ipv4.ts): the same bits as the uint32 encoded.
        expect(a).toEqual({ server: server | 0, flags: teredoFlags({ cone, randomBits }), cone, randomBits, mappedPort, mappedAddr: mappedAddr | 0 });
      }),
    );
  });

  it('decoding random 16 bytes throws nothing but WireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 20 }), (b) => {
        try {
          decodeTeredoAddress(b);
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
        }
      }),
    );
  });
});
