// [MS-RASA] §2.2.1 codec: the seed's Netmon capture as the golden vector, the lanmap2-style tolerant cases,
// name validation, and property tests (round trip; random bytes throw nothing but WireError; the data path's
// checkRasAdv accepts exactly what decodeRasAdv decodes and refuses the rest for the same reason).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkRasAdv, decodeRasAdv, encodeRasAdv, rasAdvEncodedLength, validateRasAdvName, RASADV_CHECK, RASADV_GROUP, RASADV_PORT, RASADV_TTL } from '../../src/wire/rasadv.js';
import { WireError } from '../../src/wire/errors.js';
import { fromHex, hex } from '../../src/wire/bytes.js';
import { formatIpv4, ipv4FromBytes } from '../../src/wire/ipv4.js';

// Seed 000_03fc33ad5de9a8fd.txt (and 001): the 63-byte Ethernet frame captured by Netmon, host name changed to
// "thepcsname" by the page's author.
const SEED_FRAME = fromHex(`
  01 00 5E 7F 02 02 10 00 00 11 22 33 08 00 45 00
  00 31 1F 4D 00 00 0F 11 6A 9E C0 69 5A 66 EF FF
  02 02 04 0A 26 19 00 1D BE 38 48 6F 73 74 6E 61
  6D 65 3D 74 68 65 70 63 73 6E 61 6D 65 0A 00`);
const SEED_PAYLOAD = SEED_FRAME.subarray(14 + 20 + 8);

const text = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  return undefined;
};

describe('rasadv codec: the seed capture', () => {
  it('is a 21-byte UDP payload to 239.255.2.2:9753 with IP TTL 15', () => {
    expect(SEED_PAYLOAD.length).toBe(21);
    const ip = SEED_FRAME.subarray(14);
    expect(ip[8]).toBe(RASADV_TTL);
    expect(formatIpv4(ipv4FromBytes(ip, 16))).toBe(RASADV_GROUP);
    expect((ip[22]! << 8) | ip[23]!).toBe(RASADV_PORT);
  });

  it('decodes to hostname thepcsname with no deviation', () => {
    const d = decodeRasAdv(SEED_PAYLOAD);
    expect(d.hostname).toBe('thepcsname');
    expect(d.domain).toBeUndefined();
    expect(d.extra).toEqual([]);
    expect(d.deviations).toEqual([]);
  });

  it('encodes thepcsname to exactly the seed bytes', () => {
    const b = encodeRasAdv({ hostname: 'thepcsname' });
    expect(hex(b)).toBe(hex(SEED_PAYLOAD));
    expect(rasAdvEncodedLength({ hostname: 'thepcsname' })).toBe(21);
  });
});

describe('rasadv codec: domain member', () => {
  it('encodes Hostname, LF, Domain, LF, NUL (§2.2.1, not the §4.2 typo)', () => {
    const b = encodeRasAdv({ hostname: 'Saleslogix', domain: 'EARTH.COM' });
    expect(b).toEqual(text('Hostname=Saleslogix\nDomain=EARTH.COM\n\0'));
    expect(b.length).toBe(38);
    expect(rasAdvEncodedLength({ hostname: 'Saleslogix', domain: 'EARTH.COM' })).toBe(38);
  });

  it('decodes the lanmap2 domain vector', () => {
    const d = decodeRasAdv(text('Hostname=Saleslogix\nDomain=EARTH.COM\n\0'));
    expect(d).toMatchObject({ hostname: 'Saleslogix', domain: 'EARTH.COM', deviations: [] });
    expect(d.fields).toEqual([
      { key: 'Hostname', value: 'Saleslogix' },
      { key: 'Domain', value: 'EARTH.COM' },
    ]);
  });
});

describe('rasadv codec: tolerant decoding', () => {
  it('accepts a missing NUL', () => {
    const d = decodeRasAdv(text('Hostname=Saleslogix\n'));
    expect(d.hostname).toBe('Saleslogix');
    expect(d.deviations).toEqual(['no-nul']);
  });

  it('accepts a missing newline and NUL', () => {
    const d = decodeRasAdv(text('Hostname=Saleslogix'));
    expect(d.hostname).toBe('Saleslogix');
    expect(d.deviations).toEqual(expect.arrayContaining(['no-nul', 'no-final-newline']));
  });

  it('accepts a missing newline before the NUL', () => {
    expect(decodeRasAdv(text('Hostname=A\0')).deviations).toEqual(['no-final-newline']);
  });

  it('accepts an empty host name', () => {
    const d = decodeRasAdv(text('Hostname=\n\0'));
    expect(d.hostname).toBe('');
    expect(d.deviations).toEqual(['empty-hostname']);
    expect(decodeRasAdv(text('Hostname=')).hostname).toBe('');
  });

  it('keeps unknown keys in order, with their position among all fields', () => {
    const d = decodeRasAdv(text('Hostname=h\nZeta=1\nDomain=d\nAlpha=x=y\n\0'));
    expect(d.domain).toBe('d');
    expect(d.extra).toEqual([
      { key: 'Zeta', value: '1' },
      { key: 'Alpha', value: 'x=y' },
    ]);
    expect(d.fields.map((f) => f.key)).toEqual(['Hostname', 'Zeta', 'Domain', 'Alpha']);
    expect(d.deviations).toEqual(['unknown-key']);
  });

  it('accepts CRLF, Domain first, duplicates (first wins), bytes after the NUL and UTF-8', () => {
    expect(decodeRasAdv(text('Hostname=h\r\n\0')).deviations).toEqual(['crlf']);
    const order = decodeRasAdv(text('Domain=d\nHostname=h\nHostname=g\n\0'));
    expect(order).toMatchObject({ hostname: 'h', domain: 'd' });
    expect(order.deviations).toEqual(expect.arrayContaining(['key-order', 'duplicate-key']));
    expect(decodeRasAdv(text('Hostname=h\n\0\0\0')).deviations).toEqual([]);
    expect(decodeRasAdv(text('Hostname=h\n\0junk')).deviations).toEqual(['bytes-after-nul']);
    const u = decodeRasAdv(new Uint8Array([...text('Hostname=caf'), 0xc3, 0xa9, 0x0a, 0x00]));
    expect(u.hostname).toBe('café');
    expect(u.deviations).toEqual(['non-ascii']);
  });

  it('refuses what cannot be an advertisement, by code', () => {
    expect(codeOf(() => decodeRasAdv(new Uint8Array(0)))).toBe('WIRE_TRUNCATED');
    expect(codeOf(() => decodeRasAdv(text('\0Hostname=h\n')))).toBe('WIRE_TRUNCATED');
    expect(codeOf(() => decodeRasAdv(text('Hostname')))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => decodeRasAdv(text('=h\n\0')))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => decodeRasAdv(text('Hostname=a\x01b\n\0')))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => decodeRasAdv(text('Hostname=a\rb\n\0')))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => decodeRasAdv(text('Domain=x\n\0')))).toBe('WIRE_UNEXPECTED_TYPE');
    expect(codeOf(() => decodeRasAdv(text('hostname=lowercase\n\0')))).toBe('WIRE_UNEXPECTED_TYPE');
  });

  it('refuses a fixed random datagram', () => {
    // 32 arbitrary bytes: control bytes before the first NUL make it malformed text.
    const junk = fromHex('9e0c7f3a1b22d4e5 06a7b8c9daebfc0d 1e2f30415263748f 00ab3c4d5e6f7081');
    expect(codeOf(() => decodeRasAdv(junk))).toBe('WIRE_BAD_VALUE');
  });
});

describe('rasadv codec: name validation', () => {
  it.each([
    ['', 'is empty'],
    ['a\nb', 'a newline'],
    ['a\0b', 'a NUL'],
    ['a b', 'a space'],
    ['a\tb', 'control character 0x09'],
    ['café', 'non-ASCII'],
  ])('rejects %j with a clear message', (name, message) => {
    expect(() => validateRasAdvName(name)).toThrow(message);
    expect(codeOf(() => encodeRasAdv({ hostname: name }))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => encodeRasAdv({ hostname: 'ok', domain: name }))).toBe('WIRE_BAD_VALUE');
  });

  // RFC 1035 §2.3.4: a label (the host name) at most 63 octets, a name at most 255 on the wire, 253 as text.
  it('accepts NetBIOS and DNS style names up to 63 (host) and 253 (domain) characters', () => {
    for (const n of ['JYRAALAN2K', 'thepcsname', 'host-1.example.com', 'x'.repeat(63), 'A_B$']) expect(() => validateRasAdvName(n)).not.toThrow();
    expect(() => validateRasAdvName('x'.repeat(64))).toThrow('hostname is 64 characters long; at most 63 are allowed');
    expect(() => validateRasAdvName('x'.repeat(253), 'domain')).not.toThrow();
    expect(() => validateRasAdvName('x'.repeat(254), 'domain')).toThrow('domain is 254 characters long; at most 253 are allowed');
    expect(encodeRasAdv({ hostname: 'x'.repeat(63), domain: 'd'.repeat(253) })).toHaveLength(335);
  });

  it('sends nothing a listener would drop: at most 8 lines and 512 bytes of text', () => {
    const extra = (n: number, value = 'v') => Array.from({ length: n }, (_, k) => ({ key: `k${k}`, value }));
    expect(encodeRasAdv({ hostname: 'h', domain: 'd', extra: extra(6) })).toHaveLength(51); // 11 + 9 + 6 x 5 + NUL
    expect(() => encodeRasAdv({ hostname: 'h', domain: 'd', extra: extra(7) })).toThrow('9 lines; at most 8 are allowed');
    // "Hostname=h\n" 11 + 2 x ("k0=" 3 + 248 + LF) = 515 bytes of text.
    expect(() => encodeRasAdv({ hostname: 'h', extra: extra(2, 'v'.repeat(248)) })).toThrow('515 bytes of text; at most 512 are allowed');
  });

  it('rejects extra keys that are not tokens or that shadow Hostname/Domain', () => {
    expect(codeOf(() => encodeRasAdv({ hostname: 'h', extra: [{ key: 'a=b', value: 'v' }] }))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => encodeRasAdv({ hostname: 'h', extra: [{ key: 'Domain', value: 'v' }] }))).toBe('WIRE_BAD_VALUE');
  });
});

describe('rasadv codec: properties', () => {
  const name = fc.stringMatching(/^[!-~]{1,80}$/);
  const key = fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/).filter((k) => k !== 'Hostname' && k !== 'Domain');

  it('decode(encode(x)) == x and the length matches', () => {
    fc.assert(
      fc.property(name, fc.option(name, { nil: undefined }), fc.array(fc.record({ key, value: name }), { maxLength: 3 }), (hostname, domain, extra) => {
        const adv = { hostname, ...(domain === undefined ? {} : { domain }), extra };
        const bytes = encodeRasAdv(adv);
        expect(bytes.length).toBe(rasAdvEncodedLength(adv));
        const d = decodeRasAdv(bytes);
        expect(d.hostname).toBe(hostname);
        expect(d.domain).toBe(domain);
        expect(d.extra).toEqual(extra);
        expect(encodeRasAdv(d)).toEqual(bytes);
      }),
    );
  });

  it('random and truncated bytes throw nothing but WireError', () => {
    const valid = encodeRasAdv({ hostname: 'thepcsname', domain: 'example.com' });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), fc.nat(valid.length).map((n) => valid.subarray(0, n))), (b) => {
        try {
          decodeRasAdv(b);
        } catch (e) {
          expect(e).toBeInstanceOf(WireError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  // Pieces that hit every rule: keys, '=', line ends, CR, TAB, NUL, other control bytes, DEL, UTF-8 and junk.
  const piece = fc.oneof(
    fc.constantFrom('Hostname', 'Domain', 'hostname', 'Hostname=', '=', '\n', '\r', '\r\n', '\t', '\0', 'x', 'ab', ' '),
    fc.constantFrom('\x01', '\x1f', '\x7f', '\xc3\xa9', '\xff', '\xe2\x82'),
  );
  const datagram = fc.oneof(
    fc.array(piece, { maxLength: 12 }).map((parts) => text(parts.join(''))),
    fc.uint8Array({ maxLength: 64 }),
  );
  const REASON_OF: Record<string, number> = { WIRE_TRUNCATED: RASADV_CHECK.EMPTY, WIRE_BAD_VALUE: RASADV_CHECK.MALFORMED, WIRE_UNEXPECTED_TYPE: RASADV_CHECK.NO_HOSTNAME };

  it('checkRasAdv accepts what decodeRasAdv decodes and refuses the rest with the same reason, at any offset', () => {
    fc.assert(
      fc.property(datagram, fc.nat(7), fc.nat(7), (b, before, after) => {
        const buf = new Uint8Array(before + b.length + after).fill(0x3d);
        buf.set(b, before);
        const check = checkRasAdv(buf, before, b.length);
        const code = codeOf(() => decodeRasAdv(b));
        if (code === undefined) {
          expect(check).toBeGreaterThan(0);
          const nul = b.indexOf(0);
          expect(check).toBe(nul < 0 ? b.length : nul);
        } else expect(check).toBe(REASON_OF[code]);
      }),
      { numRuns: 5000 },
    );
  });

  it('checkRasAdv on the cases the decoder documents', () => {
    const check = (t: string): number => checkRasAdv(text(t), 0, t.length);
    expect(checkRasAdv(SEED_PAYLOAD, 0, SEED_PAYLOAD.length)).toBe(20);
    expect(check('\0')).toBe(RASADV_CHECK.EMPTY);
    expect(check('Hostname=a\r\nDomain=b\r\n\0')).toBe(22);
    expect(check('Hostname=a\rb\n')).toBe(RASADV_CHECK.MALFORMED);
    expect(check('Hostname=a\n\nDomain=b\n')).toBe(RASADV_CHECK.MALFORMED);
    expect(check('Domain=x\n')).toBe(RASADV_CHECK.NO_HOSTNAME);
    expect(check('Hostnam=x\nHostname=y')).toBe(20);
  });

  it('checkRasAdv refuses what decodes but exceeds the listener\'s bounds, within the first 513 bytes', () => {
    const check = (t: string): number => checkRasAdv(text(t), 0, t.length);
    expect(check(`Hostname=${'h'.repeat(63)}\r\nDomain=${'d'.repeat(253)}\r\n\0`)).toBe(336);
    expect(check(`Hostname=${'h'.repeat(64)}\n`)).toBe(RASADV_CHECK.HOSTNAME_TOO_LONG);
    expect(check(`Domain=${'d'.repeat(254)}\nHostname=h\n`)).toBe(RASADV_CHECK.DOMAIN_TOO_LONG);
    expect(check(`Hostname=h\n${'k=v\n'.repeat(8)}`)).toBe(RASADV_CHECK.TOO_MANY_LINES);
    expect(check(`Hostname=h\nk=${'v'.repeat(499)}\n\0`)).toBe(RASADV_CHECK.TEXT_TOO_LONG);
    // Judged without reading further: a long datagram is too long whatever it holds.
    expect(check(`\x01${'x'.repeat(600)}`)).toBe(RASADV_CHECK.TEXT_TOO_LONG);
    expect(check(`\x01${'x'.repeat(500)}`)).toBe(RASADV_CHECK.MALFORMED);
    // The decoder itself is not bounded (a capture reader may want the whole text).
    expect(decodeRasAdv(text(`Hostname=${'h'.repeat(64)}\n`)).hostname).toHaveLength(64);
  });
});
