// Monitor mode (issue 19 point 4): the RA sender engine keeps the other routers' RAs (src/engine/ra/monitor.ts),
// reports their default routes running out, stays bounded, and never takes its own looped-back RAs for another
// router's.
import { describe, expect, it } from 'vitest';
import { RaSender } from '../../src/engine/ra/sender.js';
import { buildRaMessages } from '../../src/engine/ra/content.js';
import { seededRandom } from '../../src/engine/types.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { FULL, HOST, Recorder, RS, S, config, run } from './ra-fixtures.js';

const OTHER = parseIpv6('fe80::2');
const SELF = parseIpv6('fe80::a');
const p99 = { ...FULL.prefixes[0]!, prefix: parseIpv6('2001:db8:99::'), validLifetimeSec: 600, preferredLifetimeSec: 300 };
const ra = (over: Partial<typeof FULL>) => buildRaMessages({ ...FULL, ...over }, 1500)[0]!;

function monitoring(advertise = true): { e: RaSender; sink: Recorder } {
  const e = new RaSender({ ...config(), monitor: true, advertise }, seededRandom(1));
  e.setOwnAddresses([SELF]);
  e.start(0);
  return { e, sink: new Recorder() };
}

describe('RA monitor', () => {
  it("keeps another router's header values and prefixes, merged across its RAs, with their lifetimes", () => {
    const { e, sink } = monitoring();
    const a = ra({ routerLifetimeSec: 300, mtu: 1400, prefixes: [p99] });
    const b = ra({ routerLifetimeSec: 300, mtu: 1400, prefixes: [{ ...p99, prefix: parseIpv6('2001:db8:98::'), validLifetimeSec: 1000 }] });
    e.advert(a, 0, a.length, OTHER, 255, 10 * S, sink);
    e.advert(b, 0, b.length, OTHER, 255, 20 * S, sink);
    expect(e.routers.routers.length).toBe(1);
    const r = e.routers.routers[0]!;
    expect([formatIpv6(r.source), r.advertisements, r.routerLifetimeSec, r.mtu, r.curHopLimit, r.managed, r.preference]).toEqual(['fe80::2', 2, 300, 1400, 64, true, 1]);
    expect(r.prefixes.map((p) => [formatIpv6(p.prefix), p.prefixLength, p.validLifetimeSec, p.preferredLifetimeSec, p.heardAt])).toEqual([
      ['2001:db8:99::', 64, 600, 300, 10 * S],
      ['2001:db8:98::', 64, 1000, 300, 20 * S],
    ]);
    // §6.2.7 against ours: MTU (1480) and the 2001:db8:66::/64 lifetimes are not in these RAs; the MTU is.
    expect(r.inconsistencies).toBe(2);
    // A prefix sent with valid lifetime 0 is gone.
    const gone = ra({ routerLifetimeSec: 300, prefixes: [{ ...p99, validLifetimeSec: 0, preferredLifetimeSec: 0 }] });
    e.advert(gone, 0, gone.length, OTHER, 255, 30 * S, sink);
    expect(r.prefixes.map((p) => formatIpv6(p.prefix))).toEqual(['2001:db8:98::']);
  });

  it("reports a default route that runs out once, forgets expired prefixes, then the silent router", () => {
    const { e, sink } = monitoring(false);
    const a = ra({ routerLifetimeSec: 300, prefixes: [{ ...p99, validLifetimeSec: 400 }] });
    e.advert(a, 0, a.length, OTHER, 255, 0, sink);
    run(e, sink, 299 * S);
    expect(sink.expiredDefaultRoutes).toEqual([]);
    run(e, sink, 301 * S);
    expect(sink.expiredDefaultRoutes).toEqual([`fe80::2 at ${300 * S}`]);
    expect(e.routers.defaultRouteExpirations).toBe(1);
    run(e, sink, 401 * S);
    expect(e.routers.routers[0]!.prefixes).toEqual([]);
    // Silent for MONITOR_HOLD_MS (600 s) with nothing left: forgotten.
    run(e, sink, 599 * S);
    expect(e.routers.routers.length).toBe(1);
    run(e, sink, 600 * S);
    expect(e.routers.routers).toEqual([]);
    expect(sink.expiredDefaultRoutes.length).toBe(1);
  });

  it('drops our own looped-back RA (the answer to an RS the router itself sent), counting nothing', () => {
    const { e, sink } = monitoring();
    e.solicit(RS, 0, RS.length, SELF, 255, 1 * S, sink);
    const ours = buildRaMessages(FULL, 1500)[0]!;
    e.advert(ours, 0, ours.length, SELF, 255, 1 * S, sink);
    expect(sink.drops).toEqual(['ra-from-self']);
    expect(e.routers.routers).toEqual([]);
    expect(e.counters.advertsReceived).toBe(0);
    expect(sink.inconsistencies).toEqual([]);
  });

  it('monitor-only sends nothing, not even an answer to an RS, and compares nothing', () => {
    const { e, sink } = monitoring(false);
    run(e, sink, 1000 * S);
    e.solicit(RS, 0, RS.length, HOST, 255, 1000 * S, sink);
    const differs = ra({ curHopLimit: 1 });
    e.advert(differs, 0, differs.length, OTHER, 255, 1000 * S, sink);
    e.stop(1001 * S, sink);
    run(e, sink, 2000 * S);
    expect(sink.sent).toEqual([]);
    expect(sink.drops).toEqual(['rs-not-advertising']);
    expect(sink.inconsistencies).toEqual([]);
    expect(e.routers.routers.length).toBe(1);
  });

  it('holds at most 16 routers (the least recently heard goes) and 16 prefixes each', () => {
    const { e, sink } = monitoring();
    const many = Array.from({ length: 20 }, (_, i) => ({ ...p99, prefix: parseIpv6(`2001:db8:${i + 1}::`) }));
    const parts = buildRaMessages({ ...FULL, prefixes: many }, 1500);
    for (let i = 1; i <= 17; i++) {
      const source = parseIpv6(`fe80::${i.toString(16)}:1`);
      for (const m of parts) e.advert(m, 0, m.length, source, 255, i * S, sink);
    }
    expect(e.routers.routers.length).toBe(16);
    expect(e.routers.evictions).toBe(1);
    expect(e.routers.find(parseIpv6('fe80::1:1'))).toBeUndefined();
    expect(e.routers.routers.every((r) => r.prefixes.length === 16)).toBe(true);
  });

  it('keeps no table when monitor mode is off', () => {
    const e = new RaSender(config(), seededRandom(1));
    const sink = new Recorder();
    e.start(0);
    const a = ra({});
    e.advert(a, 0, a.length, OTHER, 255, 0, sink);
    expect(e.routers.routers).toEqual([]);
  });
});
