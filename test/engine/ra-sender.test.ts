// The RA sender's schedule with a fake clock (RFC 4861 §6.2.4-§6.2.6, RFC 7772): the initial burst, the random
// interval bounds, solicited answers (unicast at once, or the multicast RA within MAX_RA_DELAY_TIME and never
// closer than MIN_DELAY_BETWEEN_RAS), a flood of RSs neither raising the multicast rate nor shifting the
// periodic schedule, RS validation (§6.1.1), final RAs (§6.2.5), link down / up, reload and deprecation.
import { describe, expect, it } from 'vitest';
import { RaSender, RA_CONSTANTS } from '../../src/engine/ra/sender.js';
import { seededRandom } from '../../src/engine/types.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { FULL, HOST, RS, RS_SLLAO, Recorder, S, UNSPEC, config, run, solicit, started, type Sent } from './ra-fixtures.js';

describe('RA sender schedule', () => {
  it('sends the first RA at once, the next two 16 s apart, then at random intervals in [Min, Max]', () => {
    const { e, sink } = started();
    run(e, sink, 20_000 * S);
    const at = sink.multicastTimes();
    expect(at.slice(0, 3)).toEqual([0, 16 * S, 32 * S]);
    const gaps = at.slice(3).map((t, i) => t - at[i + 2]!);
    expect(gaps.length).toBeGreaterThan(40);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(200 * S);
      expect(g).toBeLessThanOrEqual(600 * S);
    }
    expect(new Set(gaps).size).toBe(gaps.length);
    expect(Math.min(...gaps)).toBeLessThan(280 * S);
    expect(Math.max(...gaps)).toBeGreaterThan(520 * S);
    expect(sink.sent[0]!.ra.routerLifetimeSec).toBe(1800);
  });

  it('caps initial intervals only when Max is above 16 s, and does nothing before a deadline', () => {
    const { e, sink } = started({ minIntervalMs: 3 * S, maxIntervalMs: 10 * S });
    e.handleTimeout(-1, sink);
    expect(sink.sent).toEqual([]);
    run(e, sink, 200 * S);
    const at = sink.multicastTimes();
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(3 * S);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(10 * S);
  });

  it('answers an RS from a link-local address at once with a unicast RA to that host only (RFC 7772)', () => {
    const { e, sink } = started();
    solicit(e, sink, 100 * S);
    const last = sink.sent[sink.sent.length - 1]!;
    expect(last).toMatchObject({ at: 100 * S, to: 'fe80::1' });
    expect(last.ra.routerLifetimeSec).toBe(1800);
    expect(e.counters.answeredUnicast).toBe(1);
    expect(sink.multicastTimes()).toEqual([0, 16 * S, 32 * S]);
  });

  it('answers with a multicast RA within MAX_RA_DELAY_TIME when unicast answers are off (§6.2.6)', () => {
    const { e, sink } = started({ unicastSolicited: false });
    solicit(e, sink, 100 * S);
    run(e, sink, 101 * S);
    const at = sink.multicastTimes();
    expect(at.length).toBe(4);
    expect(at[3]!).toBeGreaterThanOrEqual(100 * S);
    expect(at[3]!).toBeLessThanOrEqual(100 * S + RA_CONSTANTS.MAX_RA_DELAY_TIME);
    expect(e.counters.answeredMulticast).toBe(1);
  });

  it('answers an RS right after a multicast RA no sooner than MIN_DELAY_BETWEEN_RAS after it, plus the random delay', () => {
    const { e, sink } = started({ unicastSolicited: false });
    solicit(e, sink, 16 * S + 1);
    run(e, sink, 60 * S);
    const at = sink.multicastTimes();
    expect(at[2]!).toBeGreaterThanOrEqual(19 * S);
    expect(at[2]!).toBeLessThanOrEqual(19 * S + RA_CONSTANTS.MAX_RA_DELAY_TIME);
  });

  it('answers an RS from :: by multicast even in unicast mode; an RS from :: with an SLLAO is dropped (§6.1.1)', () => {
    const { e, sink } = started();
    solicit(e, sink, 100 * S, UNSPEC);
    solicit(e, sink, 100 * S, UNSPEC, RS_SLLAO);
    run(e, sink, 101 * S);
    expect(sink.multicastTimes().length).toBe(4);
    expect(sink.drops).toEqual(['rs-sllao-from-unspecified-source']);
  });

  it('keeps the multicast rate at 1 per MIN_DELAY_BETWEEN_RAS under 1000 RS/s in multicast mode', () => {
    const { e, sink } = started({ unicastSolicited: false }, 3);
    run(e, sink, 1000 * S);
    const before = sink.multicastTimes().length;
    for (let t = 1000 * S; t < 1030 * S; t += 1) solicit(e, sink, t, t % 2 === 0 ? HOST : UNSPEC);
    run(e, sink, 1031 * S);
    const at = sink.multicastTimes().slice(before);
    expect(at.length).toBeGreaterThanOrEqual(8);
    expect(at.length).toBeLessThanOrEqual(11);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(RA_CONSTANTS.MIN_DELAY_BETWEEN_RAS);
    expect(e.counters.answeredMulticast).toBe(30_000);
  });

  it('leaves the periodic schedule unchanged under a flood of 1000 RS/s in unicast mode, and bounds the answers', () => {
    const quiet = started({}, 11);
    run(quiet.e, quiet.sink, 5000 * S);
    const flooded = started({}, 11);
    let source = 1;
    // 60 s of flood across the initial burst, then 60 s across the first periodic RA.
    const firstPeriodic = quiet.sink.multicastTimes()[3]!;
    const flood = (from: number) => {
      for (let t = from; t < from + 60 * S; t += 1) {
        const addr = parseIpv6(`fe80::${(source++ % 0xffff).toString(16)}`);
        solicit(flooded.e, flooded.sink, t, addr);
      }
    };
    flood(0);
    flood(firstPeriodic - 30 * S);
    run(flooded.e, flooded.sink, 5000 * S);
    expect(flooded.sink.multicastTimes()).toEqual(quiet.sink.multicastTimes());
    // A bucket of 100 tokens refilled at 100/s: at most 100 + 100 x 60 answered per 60 s of flood.
    const answered = flooded.e.counters.answeredUnicast;
    expect(answered).toBeLessThanOrEqual(2 * (100 + 100 * 60));
    expect(answered).toBeGreaterThan(2 * 100 * 59);
    expect(flooded.sink.drops.filter((d) => d === 'rs-unicast-rate-limited').length).toBe(120_000 - answered);
  });

  it('drops invalid RSs with their §6.1.1 reason and answers none of them', () => {
    const { e, sink } = started();
    const at = 100 * S;
    solicit(e, sink, at, HOST, RS, 254);
    solicit(e, sink, at, HOST, RS, -1);
    solicit(e, sink, at, HOST, new Uint8Array([133, 1, 0, 0, 0, 0, 0, 0]));
    solicit(e, sink, at, HOST, new Uint8Array([133, 0, 0, 0, 0, 0]));
    solicit(e, sink, at, HOST, new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
    solicit(e, sink, at, HOST, new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0]));
    solicit(e, sink, at, HOST, new Uint8Array([134, 0, 0, 0, 0, 0, 0, 0]));
    expect(sink.drops).toEqual(['rs-hop-limit-not-255', 'rs-hop-limit-not-255', 'rs-code-not-zero', 'rs-too-short', 'rs-option-length-zero', 'rs-option-overruns-message', 'rs-not-router-solicitation']);
    expect(sink.sent.filter((s) => s.at === at)).toEqual([]);
    solicit(e, sink, at, HOST, RS_SLLAO);
    expect(sink.sent.filter((s) => s.at === at).length).toBe(1);
  });

  it('sends 3 final RAs with router lifetime 0, MIN_DELAY_BETWEEN_RAS apart, then reports done (§6.2.5)', () => {
    const { e, sink } = started();
    run(e, sink, 17 * S);
    e.stop(17 * S, sink);
    expect(e.state).toBe('stopping');
    solicit(e, sink, 18 * S);
    run(e, sink, 40 * S);
    const finals = sink.sent.filter((s) => s.at > 16 * S);
    expect(finals.map((f) => [f.at, f.to, f.ra.routerLifetimeSec])).toEqual([
      [19 * S, 'ff02::1', 0],
      [22 * S, 'ff02::1', 0],
      [25 * S, 'ff02::1', 0],
    ]);
    expect(sink.done).toBe(1);
    expect(e.state).toBe('stopped');
    expect(e.nextTimeout()).toBeUndefined();
    expect(sink.drops).toEqual(['rs-not-advertising']);
    e.stop(50 * S, sink);
    expect(sink.done).toBe(1);
  });

  it('sends no final RA when configured so, or when not advertising', () => {
    const none = started({ finalAdvertisements: 0 });
    none.e.stop(5 * S, none.sink);
    expect(none.sink.done).toBe(1);
    const idle = new RaSender(config(), seededRandom(1));
    const sink = new Recorder();
    idle.stop(0, sink);
    expect([sink.done, sink.sent.length]).toEqual([1, 0]);
  });

  it('stays silent while the link is down and restarts the initial burst when it comes back', () => {
    const { e, sink } = started();
    run(e, sink, 40 * S);
    e.pause();
    solicit(e, sink, 50 * S);
    run(e, sink, 2000 * S);
    expect(sink.multicastTimes()).toEqual([0, 16 * S, 32 * S]);
    expect(sink.drops).toEqual(['rs-not-advertising']);
    e.start(2000 * S);
    run(e, sink, 2040 * S);
    expect(sink.multicastTimes()).toEqual([0, 16 * S, 32 * S, 2000 * S, 2016 * S, 2032 * S]);
  });

  it('sends every RA by unicast to each listed client and drops RSs from others (radvd clients)', () => {
    const a = parseIpv6('fe80::a');
    const b = parseIpv6('fe80::b');
    const { e, sink } = started({ clients: [a, b] });
    run(e, sink, 1 * S);
    expect(sink.sent.map((s) => s.to)).toEqual(['fe80::a', 'fe80::b']);
    solicit(e, sink, 2 * S, HOST);
    solicit(e, sink, 2 * S, b);
    expect(sink.drops).toEqual(['rs-source-not-in-clients']);
    expect(sink.sent.map((s) => s.to)).toEqual(['fe80::a', 'fe80::b', 'fe80::b']);
  });

  it('sends nothing unsolicited in UnicastOnly mode and answers RSs by unicast only', () => {
    const { e, sink } = started({ unicastOnly: true, unicastSolicited: false });
    expect(e.nextTimeout()).toBeUndefined();
    solicit(e, sink, 5 * S, parseIpv6('2001:db8:66::9'));
    solicit(e, sink, 6 * S, UNSPEC);
    expect(sink.sent.map((s) => s.to)).toEqual(['2001:db8:66::9']);
    expect(sink.drops).toEqual(['rs-unspecified-source-unicast-only']);
    e.stop(7 * S, sink);
    expect([sink.done, sink.sent.length]).toEqual([1, 1]);
  });
});

describe('RA sender reload', () => {
  const p66 = FULL.prefixes[0]!;
  const p67 = { ...p66, prefix: parseIpv6('2001:db8:67::') };
  const withPrefixes = (prefixes: (typeof p66)[]) => config({}, { ...FULL, prefixes });
  const pio = (s: Sent) => s.ra.options.flatMap((o) => (o.kind === 'prefix-info' ? [[formatIpv6(o.prefix), o.preferredLifetimeSec, o.validLifetimeSec]] : []));

  it('advertises a removed prefix with preferred lifetime 0 and a valid lifetime counting down, until it expires', () => {
    const e = new RaSender(withPrefixes([p66, p67]), seededRandom(5));
    const sink = new Recorder();
    e.start(0);
    run(e, sink, 1000 * S);
    e.reload(withPrefixes([p66]), 1000 * S);
    // A changed content is a new initial period: the next RA goes out at once.
    run(e, sink, 1000 * S);
    expect(pio(sink.sent[sink.sent.length - 1]!)).toEqual([['2001:db8:66::', 14_400, 86_400], ['2001:db8:67::', 0, 86_400]]);
    solicit(e, sink, 1000 * S + 10_500);
    expect(pio(sink.sent[sink.sent.length - 1]!)[1]).toEqual(['2001:db8:67::', 0, 86_390]);
    expect(e.deprecated(1000 * S + 10_500).map((d) => d.remainingSec)).toEqual([86_390]);
    run(e, sink, (1000 + 86_400) * S);
    expect(e.deprecated((1000 + 86_400) * S)).toEqual([]);
    solicit(e, sink, (1000 + 86_401) * S);
    expect(pio(sink.sent[sink.sent.length - 1]!)).toEqual([['2001:db8:66::', 14_400, 86_400]]);
  });

  it('stops deprecating a prefix that comes back, and sends a changed value with the next RA', () => {
    const e = new RaSender(withPrefixes([p66, p67]), seededRandom(5));
    const sink = new Recorder();
    e.start(0);
    run(e, sink, 100 * S);
    e.reload(withPrefixes([p66]), 100 * S);
    e.reload(withPrefixes([p66, { ...p67, preferredLifetimeSec: 600 }]), 101 * S);
    expect(e.deprecated(101 * S)).toEqual([]);
    run(e, sink, 104 * S);
    expect(pio(sink.sent[sink.sent.length - 1]!)).toEqual([['2001:db8:66::', 14_400, 86_400], ['2001:db8:67::', 600, 86_400]]);
  });

  it('keeps the schedule when nothing changed, and moves the next RA within the new MaxRtrAdvInterval', () => {
    const e = new RaSender(config(), seededRandom(5));
    const sink = new Recorder();
    e.start(0);
    run(e, sink, 100 * S);
    const next = e.nextAdvertAt!;
    e.reload(config(), 100 * S);
    expect(e.nextAdvertAt).toBe(next);
    e.reload(config({ minIntervalMs: 3 * S, maxIntervalMs: 4 * S }), 100 * S);
    expect(e.nextAdvertAt).toBeLessThanOrEqual(104 * S);
  });
});
