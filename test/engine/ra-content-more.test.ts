// RA content with the options beyond RFC 4861/8106 (src/engine/ra/content.ts, moreOptionsOf): the H flag and
// the Mobile IPv6 options repeated in every part of a split RA, 6CO/ABRO/PREF64/DNR/captive portal after
// RFC 8106's options, golden bytes of the whole RA, and final RAs (§6.2.5): PREF64 and DNR at lifetime 0,
// routes / RDNSS / DNSSL kept when radvd's RemoveRoute / FlushRDNSS / FlushDNSSL are off.
import { describe, expect, it } from 'vitest';
import { buildRaMessages, type RaContent } from '../../src/engine/ra/content.js';
import { decodeIcmpv6 } from '../../src/wire/icmpv6.js';
import { decodeNdisc, type RouterAdvert } from '../../src/wire/ndisc.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { hex } from '../../src/wire/bytes.js';
import { ROUTE_PREFERENCE } from '../../src/wire/ndisc-options.js';
import { svcParamsBytes } from '../../src/wire/ndisc-options-ra.js';

const MORE: RaContent = {
  curHopLimit: 64,
  managed: false,
  otherConfig: false,
  preference: ROUTE_PREFERENCE.MEDIUM,
  routerLifetimeSec: 1800,
  reachableTimeMs: 0,
  retransTimerMs: 0,
  sourceLinkLayerAddress: undefined,
  mtu: 0,
  prefixes: [],
  routes: [{ prefix: parseIpv6('2001::'), prefixLength: 32, preference: ROUTE_PREFERENCE.MEDIUM, lifetimeSec: 1800, removeOnExit: false }],
  rdnss: [{ servers: [parseIpv6('2001:db8::53')], lifetimeSec: 1800, flushOnExit: false }],
  dnssl: [],
  homeAgent: true,
  advIntervalMs: 600_000,
  homeAgentInfo: { preference: 10, lifetimeSec: 1800, mobileRouterSupport: false },
  pref64: [{ prefix: parseIpv6('64:ff9b::'), prefixLength: 96, lifetimeSec: 1800 }],
  dnr: [{ priority: 1, lifetimeSec: 1800, adn: 'resolver.example', addresses: [], svcParams: svcParamsBytes({}) }],
  captivePortal: 'https://portal.example/',
};

const GOLDEN = [
  // RA header: hop limit 64, H flag (0x20), router lifetime 1800, reachable and retrans unspecified.
  '86000000', '4020', '0708', '00000000', '00000000',
  // Advertisement Interval (RFC 6275 §7.3): 600000 ms; Home Agent Information (§7.4): preference 10, 1800 s.
  '0701', '0000', '000927c0', '0801', '0000', '000a', '0708',
  // RIO /32, RDNSS (RFC 4191, RFC 8106) as before.
  '1802', '20', '00', '00000708', '2001000000000000', '1903', '0000', '00000708', '20010db8000000000000000000000053',
  // PREF64 (RFC 8781 §4): 1800 s = 225 x 8, PLC 0 (/96), 64:ff9b::.
  '2602', '0708', '0064ff9b0000000000000000',
  // DNR (RFC 9463 §6.1), ADN-only: priority 1, 1800 s, resolver.example, padded to 32 bytes.
  '9004', '0001', '00000708', '0012', '087265736f6c766572076578616d706c6500', '00000000',
  // Captive portal (RFC 8910 §2.3): the URI NUL-padded to 32 bytes.
  '2504', hex(new TextEncoder().encode('https://portal.example/')), '00000000000000',
].join('');

function decodeRa(bytes: Uint8Array): RouterAdvert {
  const m = decodeNdisc(decodeIcmpv6(bytes));
  if (m.kind !== 'router-advert') throw new Error(`not an RA: ${m.kind}`);
  return m;
}

describe('RA content beyond RFC 4861', () => {
  it('encodes the H flag, Mobile IPv6, PREF64, DNR and captive portal options to the golden bytes', () => {
    const [ra, ...rest] = buildRaMessages(MORE, 1500);
    expect(rest).toEqual([]);
    expect(hex(ra!)).toBe(GOLDEN.replace(/ /g, ''));
  });

  it('final RAs: PREF64 and DNR at lifetime 0; a route / RDNSS with RemoveRoute / FlushRDNSS off keeps its lifetime', () => {
    const ra = decodeRa(buildRaMessages(MORE, 1500, true)[0]!);
    expect(ra.routerLifetimeSec).toBe(0);
    const byKind = Object.fromEntries(ra.options.map((o) => [o.kind, o]));
    expect(byKind['pref64']).toMatchObject({ scaledLifetime: 0 });
    expect(byKind['dnr']).toMatchObject({ lifetimeSec: 0 });
    expect(byKind['route-info']).toMatchObject({ routeLifetimeSec: 1800 });
    expect(byKind['rdnss']).toMatchObject({ lifetimeSec: 1800 });
    const flushed = decodeRa(buildRaMessages({ ...MORE, routes: [{ ...MORE.routes[0]!, removeOnExit: true }], rdnss: [{ ...MORE.rdnss[0]!, flushOnExit: true }] }, 1500, true)[0]!);
    expect(flushed.options.filter((o) => o.kind === 'route-info' || o.kind === 'rdnss').map((o) => ('routeLifetimeSec' in o ? o.routeLifetimeSec : (o as { lifetimeSec: number }).lifetimeSec))).toEqual([0, 0]);
  });

  it('a split RA repeats the Advertisement Interval and Home Agent options in every part', () => {
    const many = { ...MORE, rdnss: Array.from({ length: 12 }, (_, i) => ({ servers: Array.from({ length: 8 }, (_, k) => parseIpv6(`2001:db8:${i}::${k + 1}`)), lifetimeSec: 1800 })) };
    const parts = buildRaMessages(many, 1280).map(decodeRa);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(p.options.slice(0, 2).map((o) => o.kind)).toEqual(['adv-interval', 'home-agent-info']);
  });
});
