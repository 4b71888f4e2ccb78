// RA content: golden bytes for a configuration with every option (RFC 4861 §4.2, §4.6.1, §4.6.2, §4.6.4,
// RFC 4191 §2.2-§2.3, RFC 8106 §5.1-§5.2), each option's length field as the RFCs define it, final RAs
// (§6.2.5), and splitting an RA larger than the link MTU into several (§6.2.3) instead of fragmenting.
import { describe, expect, it } from 'vitest';
import { buildRaMessages, maxRaLength, raFitProblem, type RaContent, type RaPrefix } from '../../src/engine/ra/content.js';
import { FULL } from './ra-fixtures.js';
import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc, type RouterAdvert } from '../../src/wire/ndisc.js';
import { parseIpv6, formatIpv6 } from '../../src/wire/ipv6-address.js';
import { hex } from '../../src/wire/bytes.js';


const GOLDEN = [
  // ICMPv6 type 134, code 0, checksum 0 (the kernel fills it); hop limit 64; M|O|Prf=high (01 << 3);
  // router lifetime 1800; reachable time 30000 ms; retrans timer 1000 ms.
  '86000000', '40c8', '0708', '00007530', '000003e8',
  // SLLAO (§4.6.1): type 1, length 1 (8 bytes: an Ethernet address fills it exactly).
  '0101', '02005e005301',
  // MTU (§4.6.4): type 5, length 1, reserved, 1480.
  '0501', '0000', '000005c8',
  // PIO (§4.6.2): type 3, length 4, /64, L|A, valid 86400, preferred 14400, reserved2, prefix.
  '0304', '40', 'c0', '00015180', '00003840', '00000000', '20010db8006600000000000000000000',
  // RIO (RFC 4191 §2.3): type 24, length 2 (a /32 fits in 8 prefix bytes), /32, Prf=low (11 << 3), 1800, 2001::.
  '1802', '20', '18', '00000708', '2001000000000000',
  // RDNSS (RFC 8106 §5.1): type 25, length 1 + 2 x 2 = 5, reserved, lifetime 1200, two addresses.
  '1905', '0000', '000004b0', '20010db8006600000000000000000053', '20010db8000000000000000000000053',
  // DNSSL (RFC 8106 §5.2): type 31, length 5 (8 + 26 name bytes = 34, zero-padded to 40), lifetime 1200.
  '1f05', '0000', '000004b0', '076578616d706c6503636f6d00', '036c6162076578616d706c6500', '000000000000',
].join('');

function decodeRa(bytes: Uint8Array): RouterAdvert {
  const m = decodeNdisc(decodeIcmpv6(bytes));
  if (m.kind !== 'router-advert') throw new Error(`not an RA: ${m.kind}`);
  return m;
}

/** The (type, length-in-units) pairs of the options of an encoded RA, read from the bytes. */
function optionLengths(bytes: Uint8Array): [number, number][] {
  const out: [number, number][] = [];
  for (let at = 16; at < bytes.length; at += bytes[at + 1]! * 8) out.push([bytes[at]!, bytes[at + 1]!]);
  return out;
}

describe('RA content', () => {
  it('encodes a configuration with every option to the golden bytes', () => {
    const [ra, ...more] = buildRaMessages(FULL, 1500);
    expect(more).toEqual([]);
    expect(hex(ra!)).toBe(GOLDEN);
    expect(ra!.length).toBe(160);
  });

  it('gives each option the length field its RFC defines', () => {
    const ra = buildRaMessages(FULL, 1500)[0]!;
    expect(optionLengths(ra)).toEqual([
      [1, 1], // SLLAO on Ethernet: 2 + 6 bytes = 1 unit
      [5, 1], // MTU: always 1
      [3, 4], // PIO: always 4
      [24, 2], // RIO: 2 for prefix lengths 1..64
      [25, 5], // RDNSS: 1 + 2n, odd
      [31, 5], // DNSSL: names padded to a multiple of 8
    ]);
    const route = (prefix: string, prefixLength: number) => optionLengths(buildRaMessages({ ...FULL, prefixes: [], rdnss: [], dnssl: [], routes: [{ prefix: parseIpv6(prefix), prefixLength, preference: 0, lifetimeSec: 60 }] }, 1500)[0]!)[2];
    expect(route('::', 0)).toEqual([24, 1]); // RFC 4191 §2.3: length 1 when the prefix length is 0
    expect(route('2001:db8:1:2:3::', 96)).toEqual([24, 3]); // 3 above 64
    const oneServer = buildRaMessages({ ...FULL, prefixes: [], routes: [], dnssl: [], rdnss: [{ servers: [parseIpv6('2001:db8::1')], lifetimeSec: 60 }] }, 1500)[0]!;
    expect(optionLengths(oneServer)[2]).toEqual([25, 3]);
  });

  it('round-trips through the ND decoder with the configured values', () => {
    const ra = decodeRa(buildRaMessages(FULL, 1500)[0]!);
    expect(ra).toMatchObject({ curHopLimit: 64, managed: true, otherConfig: true, preference: 1, routerLifetimeSec: 1800, reachableTimeMs: 30_000, retransTimerMs: 1000 });
    const dnssl = ra.options.find((o) => o.kind === 'dnssl');
    expect(dnssl).toMatchObject({ domains: ['example.com', 'lab.example'], lifetimeSec: 1200 });
    const rdnss = ra.options.find((o) => o.kind === 'rdnss');
    expect(rdnss?.kind === 'rdnss' && rdnss.servers.map((s) => formatIpv6(s))).toEqual(['2001:db8:66::53', '2001:db8::53']);
  });

  it('omits the SLLAO and MTU options when not configured (a bare RA is 16 bytes)', () => {
    const bare: RaContent = { ...FULL, sourceLinkLayerAddress: undefined, mtu: 0, prefixes: [], routes: [], rdnss: [], dnssl: [] };
    expect(hex(buildRaMessages(bare, 1280)[0]!)).toBe('8600000040c80708' + '00007530000003e8');
  });

  it('builds final RAs with router, route, RDNSS and DNSSL lifetimes 0 and the prefixes unchanged (§6.2.5)', () => {
    const ra = decodeRa(buildRaMessages(FULL, 1500, true)[0]!);
    expect(ra.routerLifetimeSec).toBe(0);
    const lifetimes = ra.options.map((o) => (o.kind === 'route-info' ? o.routeLifetimeSec : o.kind === 'rdnss' || o.kind === 'dnssl' ? o.lifetimeSec : o.kind === 'prefix-info' ? o.validLifetimeSec : undefined));
    expect(lifetimes).toEqual([undefined, undefined, 86_400, 0, 0, 0]);
  });

  it('deprecates a prefix marked deprecateOnExit in the final RAs: preferred 0, valid at most 2 hours', () => {
    const p = FULL.prefixes[0]!;
    const content: RaContent = { ...FULL, prefixes: [{ ...p, deprecateOnExit: true }, { ...p, prefix: parseIpv6('2001:db8:67::'), deprecateOnExit: true, validLifetimeSec: 600 }] };
    const lifetimes = (final: boolean) => decodeRa(buildRaMessages(content, 1500, final)[0]!).options.flatMap((o) => (o.kind === 'prefix-info' ? [[o.preferredLifetimeSec, o.validLifetimeSec]] : []));
    expect(lifetimes(false)).toEqual([[14_400, 86_400], [14_400, 600]]);
    expect(lifetimes(true)).toEqual([[0, 7200], [0, 600]]);
  });

  it('splits an RA larger than the link MTU into several, each with header, SLLAO and MTU, none too big', () => {
    const prefixes: RaPrefix[] = Array.from({ length: 80 }, (_, i) => ({ ...FULL.prefixes[0]!, prefix: parseIpv6(`2001:db8:${i.toString(16)}::`) }));
    const content: RaContent = { ...FULL, prefixes };
    const messages = buildRaMessages(content, 1280);
    // 1280 - 40 (IPv6 header) = 1240 bytes per RA; 32 for header + SLLAO + MTU leaves room for 37 PIOs.
    expect(messages.map((m) => optionLengths(m).filter(([t]) => t === 3).length)).toEqual([37, 37, 6]);
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(maxRaLength(1280));
      const ra = decodeRa(m);
      expect(ra.routerLifetimeSec).toBe(1800);
      expect(ra.options.slice(0, 2).map((o) => o.kind)).toEqual(['source-ll-addr', 'mtu']);
    }
    const advertised = messages.flatMap((m) => decodeRa(m).options.flatMap((o) => (o.kind === 'prefix-info' ? [formatIpv6(o.prefix)] : [])));
    expect(advertised).toEqual(prefixes.map((p) => formatIpv6(p.prefix)));
    // The route, RDNSS and DNSSL options follow the prefixes, in the last RA.
    expect(optionLengths(messages[2]!).map(([t]) => t)).toEqual([1, 5, ...Array<number>(6).fill(3), 24, 25, 31]);
  });

  it('refuses an option that cannot fit in one RA on the link (never fragmented)', () => {
    const long = Array.from({ length: 36 }, (_, i) => `name${i}.${'x'.repeat(20)}.example`);
    const content: RaContent = { ...FULL, dnssl: [{ domains: long, lifetimeSec: 60 }] };
    expect(raFitProblem(content, 1500)).toBeUndefined();
    expect(raFitProblem(content, 1280)).toMatch(/dnssl option of 1336 bytes does not fit in one RA on a link with MTU 1280/);
    expect(() => buildRaMessages(content, 1280)).toThrow(RangeError);
    const servers = Array.from({ length: 128 }, (_, i) => parseIpv6(`2001:db8::${(i + 1).toString(16)}`));
    expect(raFitProblem({ ...FULL, rdnss: [{ servers, lifetimeSec: 60 }] }, 9000)).toMatch(/rdnss option: 2056 bytes, max 2040/);
  });
});
