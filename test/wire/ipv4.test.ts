// IPv4 helpers: text <-> int32 <-> bytes, and the RFC 4380 §5.2.4 non-global ranges Teredo refuses, each
// checked at its first and last address and just outside (also for addresses of 128.0.0.0 and more, which
// are negative as int32).

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatIpv4, ipv4FromBytes, ipv4ToBytes, isGlobalEndpoint4, isGlobalUnicast4, isIpv4Number, isSharedAddressSpace4, parseIpv4 } from '../../src/wire/ipv4.js';
import { WireError } from '../../src/wire/errors.js';
import { hex } from '../../src/wire/bytes.js';

describe('parseIpv4 / formatIpv4', () => {
  it('parses dotted quads to int32: the address bits, 128.0.0.0 and above negative', () => {
    expect(parseIpv4('0.0.0.0')).toBe(0);
    expect(parseIpv4('1.2.3.4')).toBe(0x01020304);
    expect(parseIpv4('127.255.255.255')).toBe(0x7fffffff);
    expect(parseIpv4('128.0.0.0')).toBe(-0x80000000);
    expect(parseIpv4('198.18.0.10')).toBe(-971898870); // 0xc612000a
    expect(parseIpv4('203.0.113.7')).toBe(-889163513); // 0xcb007107
    expect(parseIpv4('255.255.255.255')).toBe(-1);
  });

  it('formats back, from the int32 or the uint32 form', () => {
    expect(formatIpv4(-971898870)).toBe('198.18.0.10');
    expect(formatIpv4(0xc612000a)).toBe('198.18.0.10');
    expect(formatIpv4(-1)).toBe('255.255.255.255');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIpv4(0)).toBe('0.0.0.0');
  });

  it('names every 32-bit address with an int32, a small integer in V8 (no heap number per packet)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
      const a = parseIpv4(formatIpv4(v));
      return a === (v | 0) && a >= -0x80000000 && a <= 0x7fffffff;
    }));
    expect([isIpv4Number(-0x80000000), isIpv4Number(0xffffffff), isIpv4Number(2 ** 32), isIpv4Number(-0x80000001), isIpv4Number(1.5)]).toEqual([true, true, false, false, false]);
  });

  it.each(['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '1.2.3.4 ', 'a.b.c.d', '1..2.3', '1.2.3.1000', '::1'])('rejects %j with WIRE_BAD_ADDRESS', (text) => {
    expect(() => parseIpv4(text)).toThrow(expect.objectContaining({ name: 'WireError', code: 'WIRE_BAD_ADDRESS' }));
  });

  it('round-trips every int32', () => {
    fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), (v) => parseIpv4(formatIpv4(v)) === v));
  });

  it('only WireError escapes parseIpv4 for arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        try {
          parseIpv4(s);
        } catch (e) {
          return e instanceof WireError;
        }
        return true;
      }),
    );
  });
});

describe('ipv4ToBytes / ipv4FromBytes', () => {
  it('is big-endian', () => {
    expect(hex(ipv4ToBytes(0xc6120065 | 0))).toBe('c6120065');
    expect(hex(ipv4ToBytes(0xc6120065))).toBe('c6120065');
    expect(ipv4FromBytes(Uint8Array.of(0xc6, 0x12, 0x00, 0x65))).toBe(0xc6120065 | 0);
  });

  it('writes in place at an offset and reads from one', () => {
    const buf = new Uint8Array(10).fill(0xaa);
    const view = ipv4ToBytes(0x01020304, buf, 3);
    expect(hex(buf)).toBe('aaaaaa01020304aaaaaa');
    expect(view.length).toBe(4);
    expect(view.byteOffset).toBe(3);
    expect(ipv4FromBytes(buf, 3)).toBe(0x01020304);
  });
});

describe('isGlobalUnicast4 (RFC 4380 §5.2.4)', () => {
  // Each non-global range of §5.2.4: its first and last address are rejected, the neighbours outside it are not.
  const ranges: Array<[string, string, string, string | undefined]> = [
    // [name, first, last, first address after the range]
    ['0.0.0.0/8 "this network"', '0.0.0.0', '0.255.255.255', '1.0.0.0'],
    ['10.0.0.0/8 private', '10.0.0.0', '10.255.255.255', '11.0.0.0'],
    ['127.0.0.0/8 loopback', '127.0.0.0', '127.255.255.255', '128.0.0.0'],
    ['169.254.0.0/16 link-local', '169.254.0.0', '169.254.255.255', '169.255.0.0'],
    ['172.16.0.0/12 private', '172.16.0.0', '172.31.255.255', '172.32.0.0'],
    ['192.168.0.0/16 private', '192.168.0.0', '192.168.255.255', '192.169.0.0'],
    ['192.88.99.0/24 6to4 relay anycast', '192.88.99.0', '192.88.99.255', '192.88.100.0'],
    ['224.0.0.0/4 multicast', '224.0.0.0', '239.255.255.255', undefined],
    ['240.0.0.0/4 reserved, with the limited broadcast', '240.0.0.0', '255.255.255.255', undefined],
  ];
  const before: Record<string, string> = {
    '0.0.0.0': '',
    '10.0.0.0': '9.255.255.255',
    '127.0.0.0': '126.255.255.255',
    '169.254.0.0': '169.253.255.255',
    '172.16.0.0': '172.15.255.255',
    '192.168.0.0': '192.167.255.255',
    '192.88.99.0': '192.88.98.255',
    '224.0.0.0': '223.255.255.255',
    '240.0.0.0': '223.255.255.255',
  };

  it.each(ranges)('%s is not global', (_name, first, last, after) => {
    expect(isGlobalUnicast4(parseIpv4(first))).toBe(false);
    expect(isGlobalUnicast4(parseIpv4(last))).toBe(false);
    const prev = before[first];
    if (prev) expect(isGlobalUnicast4(parseIpv4(prev))).toBe(true);
    if (after) expect(isGlobalUnicast4(parseIpv4(after))).toBe(true);
  });

  it('accepts ordinary public addresses, including the lab and documentation ranges', () => {
    for (const a of ['1.2.3.4', '8.8.8.8', '17.23.52.250', '30.3.9.202', '198.18.0.10', '192.0.2.1', '203.0.113.7', '223.255.255.255']) {
      expect(isGlobalUnicast4(parseIpv4(a)), a).toBe(true);
    }
  });

  it('answers alike for an address as int32 and as uint32 (the & of the check yields int32)', () => {
    for (const [, first, last, after] of ranges) {
      for (const a of [first, last, after ?? '1.2.3.4', before[first] || '1.2.3.4']) expect(isGlobalUnicast4(parseIpv4(a) >>> 0), a).toBe(isGlobalUnicast4(parseIpv4(a)));
    }
  });

  it('refuses 240.0.0.0/4 (reserved, RFC 1112 §4 / RFC 6890), unlike Miredo', () => {
    // No host can have such an address, so a Teredo address embedding one is forged: a relay or server that
    // sent UDP there would only leak packets to the routing system (issue: "no UDP ever leaves toward 240/4").
    for (const a of ['240.0.0.0', '250.1.2.3', '255.255.255.254']) expect(isGlobalUnicast4(parseIpv4(a)), a).toBe(false);
  });

  it('accepts 100.64.0.0/10, like Miredo', () => {
    // RFC 4380 predates RFC 6598 (shared address space 100.64/10); Miredo's v4global.c accepts it too. Refusing
    // CGN space would break clients behind carrier NAT whose server sees the 100.64/10 address.
    for (const a of ['100.64.0.0', '100.127.255.255']) expect(isGlobalUnicast4(parseIpv4(a)), a).toBe(true);
  });
});

describe('isSharedAddressSpace4 (RFC 6598: 100.64.0.0/10)', () => {
  it('holds inside the /10 only', () => {
    for (const a of ['100.64.0.0', '100.64.0.7', '100.127.255.255']) expect(isSharedAddressSpace4(parseIpv4(a))).toBe(true);
    for (const a of ['100.63.255.255', '100.128.0.0', '198.18.0.122', '10.64.0.1']) expect(isSharedAddressSpace4(parseIpv4(a))).toBe(false);
  });
});

describe('isGlobalEndpoint4 (RFC 4380 §5.2.4: where UDP named by a packet may go)', () => {
  it('a global unicast address and a port other than 0', () => {
    expect(isGlobalEndpoint4(parseIpv4('198.18.0.10'), 3544)).toBe(true);
    expect(isGlobalEndpoint4(parseIpv4('198.18.0.10'), 0)).toBe(false);
    for (const a of ['10.9.9.9', '127.0.0.1', '224.0.0.1', '255.255.255.255', '192.168.3.1', '0.1.2.3', '240.0.0.1']) {
      expect(isGlobalEndpoint4(parseIpv4(a), 3544), a).toBe(false);
    }
  });

  it('with allowNonGlobal (labs): any unicast, never loopback, multicast, broadcast, "this network", or port 0', () => {
    for (const a of ['10.9.9.9', '192.168.3.1', '172.16.0.1', '198.18.0.10']) expect(isGlobalEndpoint4(parseIpv4(a), 3544, true), a).toBe(true);
    for (const a of ['127.0.0.1', '224.0.0.1', '255.255.255.255', '0.1.2.3', '240.0.0.1']) expect(isGlobalEndpoint4(parseIpv4(a), 3544, true), a).toBe(false);
    expect(isGlobalEndpoint4(parseIpv4('10.9.9.9'), 0, true)).toBe(false);
  });
});
