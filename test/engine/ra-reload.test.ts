// Hitless reload (issue 19 point 7) and renumbering across restarts (point 2) in the RA sender engine:
// what stays configured is never sent with lifetime 0 around a reload, what left is withdrawn (routes, RDNSS,
// DNSSL at lifetime 0 until the lifetime hosts last heard has passed) or deprecated (prefixes), and prefixes a
// previous run left on the hosts (the state file) are deprecated until their valid lifetime ends.
import { describe, expect, it } from 'vitest';
import { RaSender } from '../../src/engine/ra/sender.js';
import type { RaContent } from '../../src/engine/ra/content.js';
import { seededRandom } from '../../src/engine/types.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { ROUTE_PREFERENCE } from '../../src/wire/ndisc-options.js';
import { FULL, Recorder, S, config, run, solicit, type Sent } from './ra-fixtures.js';

/** Every lifetime in one RA, as "kind what lifetime(s)" lines. */
function lifetimes(s: Sent): string[] {
  const out = [`router ${s.ra.routerLifetimeSec}`];
  for (const o of s.ra.options) {
    if (o.kind === 'prefix-info') out.push(`prefix ${formatIpv6(o.prefix)}/${o.prefixLength} ${o.preferredLifetimeSec}/${o.validLifetimeSec}`);
    else if (o.kind === 'route-info') out.push(`route ${formatIpv6(Uint8Array.from([...o.prefix, ...new Uint8Array(16 - o.prefix.length)]))}/${o.prefixLength} ${o.routeLifetimeSec}`);
    else if (o.kind === 'rdnss') out.push(`rdnss ${o.servers.map((a) => formatIpv6(a)).join(' ')} ${o.lifetimeSec}`);
    else if (o.kind === 'dnssl') out.push(`dnssl ${o.domains.join(' ')} ${o.lifetimeSec}`);
  }
  return out;
}

const p66 = FULL.prefixes[0]!;
const p67 = { ...p66, prefix: parseIpv6('2001:db8:67::') };
const route2 = { prefix: parseIpv6('64:ff9b::'), prefixLength: 96, preference: ROUTE_PREFERENCE.MEDIUM, lifetimeSec: 900 };
const BEFORE: RaContent = {
  ...FULL,
  prefixes: [p66, p67],
  routes: [...FULL.routes, route2],
  rdnss: [{ servers: [parseIpv6('2001:db8:66::53'), parseIpv6('2001:db8::53')], lifetimeSec: 1200 }],
  dnssl: [{ domains: ['example.com', 'lab.example'], lifetimeSec: 1200 }],
};
// Removed: prefix 2001:db8:67::/64, route 64:ff9b::/96, DNS server 2001:db8::53, domain lab.example.
const AFTER: RaContent = { ...BEFORE, prefixes: [p66], routes: FULL.routes, rdnss: [{ servers: [parseIpv6('2001:db8:66::53')], lifetimeSec: 1200 }], dnssl: [{ domains: ['example.com'], lifetimeSec: 1200 }] };

describe('RA sender: hitless reload (issue 19 point 7)', () => {
  it('never sends lifetime 0 for what stays; withdraws only what left, until the lifetime hosts heard has passed', () => {
    const e = new RaSender(config({}, BEFORE), seededRandom(3));
    const sink = new Recorder();
    e.start(0);
    run(e, sink, 100 * S);
    const before = sink.sent.length;
    e.reload(config({}, AFTER), 100 * S);
    run(e, sink, 100 * S);
    solicit(e, sink, 110 * S);
    const after = sink.sent.slice(before);
    expect(after.length).toBe(2);
    expect(lifetimes(after[0]!)).toEqual([
      'router 1800',
      'prefix 2001:db8:66::/64 14400/86400',
      'prefix 2001:db8:67::/64 0/86400',
      'route 2001::/32 1800',
      'route 64:ff9b::/96 0',
      'rdnss 2001:db8:66::53 1200',
      'rdnss 2001:db8::53 0',
      'dnssl example.com 1200',
      'dnssl lab.example 0',
    ]);
    expect(lifetimes(after[1]!)).toContain('prefix 2001:db8:67::/64 0/86390');
    // The route's 900 s have passed: it is no longer withdrawn; the DNS ones (1200 s) still are.
    solicit(e, sink, 1001 * S);
    expect(lifetimes(sink.sent.at(-1)!).filter((l) => l.endsWith(' 0'))).toEqual(['rdnss 2001:db8::53 0', 'dnssl lab.example 0']);
    solicit(e, sink, 1301 * S);
    expect(lifetimes(sink.sent.at(-1)!)).toEqual(['router 1800', 'prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 0/85199', 'route 2001::/32 1800', 'rdnss 2001:db8:66::53 1200', 'dnssl example.com 1200']);
  });

  it('a reload that changes nothing, or only a value, sends no lifetime 0 at all', () => {
    const e = new RaSender(config({}, BEFORE), seededRandom(3));
    const sink = new Recorder();
    e.start(0);
    run(e, sink, 50 * S);
    e.reload(config({}, BEFORE), 50 * S);
    e.reload(config({}, { ...BEFORE, routerLifetimeSec: 1700, rdnss: [{ ...BEFORE.rdnss[0]!, lifetimeSec: 600 }] }), 51 * S);
    run(e, sink, 2000 * S);
    const zeros = sink.sent.flatMap((s) => lifetimes(s).filter((l) => / 0$|\/0$| 0\//.test(l)));
    expect(zeros).toEqual([]);
    expect(lifetimes(sink.sent.at(-1)!)).toContain('rdnss 2001:db8:66::53 2001:db8::53 600');
  });

  it('a withdrawn item that comes back is advertised with its lifetime again, never 0', () => {
    const e = new RaSender(config({}, BEFORE), seededRandom(3));
    const sink = new Recorder();
    e.start(0);
    e.reload(config({}, AFTER), 10 * S);
    e.reload(config({}, BEFORE), 11 * S);
    solicit(e, sink, 12 * S);
    expect(lifetimes(sink.sent.at(-1)!)).toEqual(['router 1800', 'prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 14400/86400', 'route 2001::/32 1800', 'route 64:ff9b::/96 900', 'rdnss 2001:db8:66::53 2001:db8::53 1200', 'dnssl example.com lab.example 1200']);
  });
});

describe('RA sender: renumbering state from a previous run (RFC 9096)', () => {
  it('deprecates a restored prefix no longer advertised until its valid lifetime ends, and ignores the others', () => {
    const e = new RaSender(config({}, AFTER), seededRandom(3));
    const sink = new Recorder();
    const version = e.renumberingVersion;
    e.restore(
      [
        { prefix: p67, expiresAt: 5000 * S }, // left the config while we were down
        { prefix: p66, expiresAt: 9000 * S }, // still advertised: nothing to deprecate
        { prefix: { ...p66, prefix: parseIpv6('2001:db8:68::') }, expiresAt: 0 }, // already expired on the hosts
      ],
      0,
    );
    expect(e.renumberingVersion).toBe(version + 1);
    e.start(0);
    run(e, sink, 0);
    expect(lifetimes(sink.sent[0]!).filter((l) => l.startsWith('prefix'))).toEqual(['prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 0/5000']);
    expect(e.deprecatedEntries().map((d) => [formatIpv6(d.prefix.prefix), d.expiresAt])).toEqual([['2001:db8:67::', 5000 * S]]);
    solicit(e, sink, 5001 * S);
    expect(lifetimes(sink.sent.at(-1)!).filter((l) => l.startsWith('prefix'))).toEqual(['prefix 2001:db8:66::/64 14400/86400']);
    expect(e.renumberingVersion).toBe(version + 2);
  });
});

describe("RA sender: radvd's DecrementLifetimes", () => {
  it('the lifetimes count down in real time from start, restart from the configured ones on reload, and the prefix goes once preferred reaches 0', () => {
    const counting = { ...p67, validLifetimeSec: 600, preferredLifetimeSec: 300, decrementLifetimes: true };
    const content: RaContent = { ...FULL, prefixes: [p66, counting] };
    const e = new RaSender(config({}, content), seededRandom(3));
    const sink = new Recorder();
    e.start(0);
    const at = (t: number): string[] => {
      solicit(e, sink, t);
      return lifetimes(sink.sent.at(-1)!).filter((l) => l.startsWith('prefix'));
    };
    // 2001:db8:66::/64 has no DecrementLifetimes: its lifetimes never move.
    expect(at(10 * S)).toEqual(['prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 290/590']);
    expect(at(200 * S)).toEqual(['prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 100/400']);
    expect(at(299 * S)).toEqual(['prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 1/301']);
    expect(at(300 * S)).toEqual(['prefix 2001:db8:66::/64 14400/86400']);
    e.reload(config({}, content), 400 * S);
    expect(at(405 * S)).toEqual(['prefix 2001:db8:66::/64 14400/86400', 'prefix 2001:db8:67::/64 295/595']);
  });
});
