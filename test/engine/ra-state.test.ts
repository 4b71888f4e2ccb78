// Beyond the schedule: other routers' RAs (RFC 4861 §6.1.2 validity, §6.2.7 consistency with ours) and the
// sender's state staying bounded whatever the number of solicitors.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RaSender, type RaSink } from '../../src/engine/ra/sender.js';
import { RA_INCONSISTENCIES } from '../../src/engine/ra/consistency.js';
import { buildRaMessages } from '../../src/engine/ra/content.js';
import { seededRandom } from '../../src/engine/types.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { FULL, RS_SLLAO, config, started } from './ra-fixtures.js';

describe('RA sender: other routers (§6.2.7)', () => {
  const other = parseIpv6('fe80::2');
  const ra = (over: Partial<typeof FULL>) => buildRaMessages({ ...FULL, ...over }, 1500)[0]!;

  it('reports each field another router advertises differently, and nothing for the same content', () => {
    const { e, sink } = started();
    const same = ra({});
    e.advert(same, 0, same.length, other, 255, 0, sink);
    expect(sink.inconsistencies).toEqual([]);
    const p = { ...FULL.prefixes[0]!, validLifetimeSec: 600, preferredLifetimeSec: 300 };
    const differs = ra({ curHopLimit: 32, managed: false, otherConfig: false, reachableTimeMs: 1, retransTimerMs: 2, mtu: 1400, prefixes: [p, { ...p, prefix: parseIpv6('2001:db8:99::') }] });
    e.advert(differs, 0, differs.length, other, 255, 0, sink);
    expect(sink.inconsistencies).toEqual(RA_INCONSISTENCIES.map((i) => `${i} from fe80::2`));
    // Unspecified values (0) and options only one side sends are not compared.
    const unspecified = ra({ curHopLimit: 0, reachableTimeMs: 0, retransTimerMs: 0, mtu: 0, prefixes: [] });
    sink.inconsistencies.length = 0;
    e.advert(unspecified, 0, unspecified.length, other, 255, 0, sink);
    expect(sink.inconsistencies).toEqual([]);
    expect(e.counters.advertsReceived).toBe(3);
  });

  it('drops RAs that are not valid per §6.1.2 without comparing them', () => {
    const { e, sink } = started();
    const r = ra({ curHopLimit: 1 });
    e.advert(r, 0, r.length, parseIpv6('2001:db8::2'), 255, 0, sink);
    e.advert(r, 0, r.length, other, 64, 0, sink);
    e.advert(r, 0, 15, other, 255, 0, sink);
    const bad = r.slice();
    bad[17] = 0; // the SLLAO's length
    e.advert(bad, 0, bad.length, other, 255, 0, sink);
    expect(sink.drops).toEqual(['ra-source-not-link-local', 'ra-hop-limit-not-255', 'ra-too-short', 'ra-option-length-zero']);
    expect(sink.inconsistencies).toEqual([]);
  });
});

describe('RA sender: bounded state', () => {
  let measured: RaSender | undefined;
  // Heap growth while answering RSs from `sources` distinct link-local addresses, after a full GC: an engine that
  // remembered anything per solicitor (a Map entry, a kept view of a message) would grow by megabytes.
  function heapGrowth(engine: RaSender, sources: number): number {
    measured = engine; // held from outside this frame, so the engine is live until the last GC
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const sink: RaSink = { drop: () => {}, sendRa: () => {}, finalDone: () => {}, inconsistent: () => {}, defaultRouteExpired: () => {} };
    const source = parseIpv6('fe80::');
    const serve = (first: number, count: number): void => {
      for (let i = first; i < first + count; i++) {
        source[12] = i >>> 24;
        source[13] = (i >>> 16) & 0xff;
        source[14] = (i >>> 8) & 0xff;
        source[15] = i & 0xff;
        engine.solicit(RS_SLLAO, 0, RS_SLLAO.length, source, 255, i, sink);
      }
    };
    serve(0, 2000);
    gc();
    const before = process.memoryUsage().heapUsed;
    serve(2000, sources);
    gc();
    return process.memoryUsage().heapUsed - before;
  }

  it('keeps nothing per solicitor: the heap does not grow with 100 000 RSs from different hosts', () => {
    const e = new RaSender(config({ maxUnicastPerSec: 1_000_000 }), seededRandom(1));
    e.start(0);
    expect(heapGrowth(e, 100_000)).toBeLessThan(1 << 20);
    expect(measured?.counters.answeredUnicast).toBe(102_000);
  });

  it('the heap check sees per-solicitor state', () => {
    class Leaky extends RaSender {
      readonly #seen = new Map<string, Uint8Array>();
      override solicit(...args: Parameters<RaSender['solicit']>): void {
        this.#seen.set(formatIpv6(args[3]), args[3].slice());
        super.solicit(...args);
      }
    }
    const e = new Leaky(config({ maxUnicastPerSec: 1_000_000 }), seededRandom(1));
    e.start(0);
    expect(heapGrowth(e, 100_000)).toBeGreaterThan(4 << 20);
  });
});
