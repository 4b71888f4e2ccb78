// Advertiser schedule: [MS-RASA] §3.1.3 send at start, §3.1.6 send and restart at each expiry; jitter bounds,
// send-now restarting the timer, independent per-interface schedules, no catch-up burst after a stall.
import { describe, expect, it } from 'vitest';
import { RasAdvAdvertiser, type AdvertiserSink, type SendCause } from '../../src/engine/rasadv/advertiser.js';
import { seededRandom } from '../../src/engine/types.js';
import { encodeRasAdv } from '../../src/wire/rasadv.js';
import { WireError } from '../../src/wire/errors.js';

const HOUR = 3_600_000;
const T0 = 1_000;
const make = (over: Partial<ConstructorParameters<typeof RasAdvAdvertiser>[0]> = {}) =>
  new RasAdvAdvertiser({ message: { hostname: 'thepcsname' }, interfaces: ['eth0'], intervalMs: HOUR, random: seededRandom(1), ...over }, T0);

interface Send {
  readonly iface: string;
  readonly payload: Uint8Array;
  readonly cause: SendCause;
  readonly seq: number;
}

/** A sink that records each advertisement (the interface by label, a copy of the lent bytes). */
function recorder(a: RasAdvAdvertiser): AdvertiserSink & { sends: Send[]; take(): Send[] } {
  const sends: Send[] = [];
  return {
    sends,
    drop: () => expect.fail('the advertiser drops nothing'),
    advertise: (iface, data, offset, length, cause, seq) => void sends.push({ iface: a.interfaces[iface]!, payload: data.slice(offset, offset + length), cause, seq }),
    take: () => sends.splice(0),
  };
}
const timeout = (a: RasAdvAdvertiser, now: number): Send[] => {
  const sink = recorder(a);
  a.handleTimeout(now, sink);
  return sink.sends;
};
const sendNow = (a: RasAdvAdvertiser, iface: string | undefined, now: number): Send[] => {
  const sink = recorder(a);
  a.sendNow(iface, now, sink);
  return sink.sends;
};

/** Drives the engine like the runtime would: fire each deadline up to `until`. */
function run(a: RasAdvAdvertiser, until: number): { at: number; send: Send }[] {
  const log: { at: number; send: Send }[] = [];
  for (let t = a.nextTimeout(); t !== undefined && t <= until; t = a.nextTimeout()) {
    for (const send of timeout(a, t)) log.push({ at: t, send });
  }
  return log;
}

describe('rasadv advertiser', () => {
  it('sends the encoded advertisement at start, then every interval', () => {
    const a = make();
    expect(a.nextTimeout()).toBe(T0);
    const log = run(a, T0 + 3 * HOUR);
    expect(log.map((l) => [l.at - T0, l.send.cause, l.send.seq])).toEqual([
      [0, 'start', 1],
      [HOUR, 'timer', 2],
      [2 * HOUR, 'timer', 3],
      [3 * HOUR, 'timer', 4],
    ]);
    expect(log[0]!.send.payload).toEqual(encodeRasAdv({ hostname: 'thepcsname' }));
  });

  it('sends nothing before a deadline (spurious timeouts are harmless)', () => {
    const a = make();
    timeout(a, T0);
    expect(timeout(a, T0 + HOUR - 1)).toEqual([]);
    expect(a.nextTimeout()).toBe(T0 + HOUR);
  });

  it('keeps each jittered period within [interval - jitter, interval + jitter] and varies it', () => {
    const jitter = 300_000;
    const a = make({ jitterMs: jitter, random: seededRandom(42) });
    const at = run(a, T0 + 200 * HOUR).map((l) => l.at);
    const periods = at.slice(1).map((t, i) => t - at[i]!);
    expect(periods.length).toBeGreaterThan(150);
    for (const p of periods) {
      expect(p).toBeGreaterThanOrEqual(HOUR - jitter);
      expect(p).toBeLessThanOrEqual(HOUR + jitter);
    }
    expect(new Set(periods).size).toBeGreaterThan(100);
    const mean = periods.reduce((s, p) => s + p, 0) / periods.length;
    expect(Math.abs(mean - HOUR)).toBeLessThan(jitter / 5);
  });

  it('send-now sends at once on every interface and restarts the timer', () => {
    const a = make({ interfaces: ['eth0', 'eth1'] });
    timeout(a, T0);
    const now = T0 + 10 * 60_000;
    const sent = sendNow(a, undefined, now);
    expect(sent.map((s) => [s.iface, s.cause, s.seq])).toEqual([
      ['eth0', 'request', 2],
      ['eth1', 'request', 2],
    ]);
    expect(a.nextTimeout()).toBe(now + HOUR);
  });

  it('send-now for one interface moves only that schedule; before start it counts as the start send', () => {
    const a = make({ interfaces: ['eth0', '192.0.2.1'] });
    expect(sendNow(a, '192.0.2.1', T0).map((s) => [s.iface, s.cause])).toEqual([['192.0.2.1', 'start']]);
    expect(timeout(a, T0).map((s) => s.iface)).toEqual(['eth0']);
    sendNow(a, 'eth0', T0 + 5_000);
    expect(a.status().map((s) => [s.iface, s.sent, s.nextAt - T0])).toEqual([
      ['eth0', 2, 5_000 + HOUR],
      ['192.0.2.1', 1, HOUR],
    ]);
    expect(sendNow(a, 'nope', T0)).toEqual([]);
  });

  it('interfaces with jitter drift apart instead of sending in lockstep', () => {
    const a = make({ interfaces: ['a', 'b'], jitterMs: 60_000, random: seededRandom(7) });
    const log = run(a, T0 + 5 * HOUR);
    const times = (i: string) => log.filter((l) => l.send.iface === i).map((l) => l.at);
    expect(times('a')[0]).toBe(T0);
    expect(times('b')[0]).toBe(T0);
    expect(times('a').slice(1)).not.toEqual(times('b').slice(1));
  });

  it('after a stall sends once and schedules from now (no catch-up burst)', () => {
    const a = make();
    timeout(a, T0);
    const late = T0 + 5 * HOUR + 123;
    expect(timeout(a, late)).toHaveLength(1);
    expect(a.nextTimeout()).toBe(late + HOUR);
  });

  it('keeps one timer per interface: a hundred interfaces at distinct deadlines each fire once, in time order', () => {
    const labels = Array.from({ length: 100 }, (_, i) => `if${i}`);
    const a = make({ interfaces: labels, jitterMs: HOUR / 4, random: seededRandom(3) });
    expect(timeout(a, T0)).toHaveLength(100);
    const log = run(a, T0 + HOUR + HOUR / 4); // every period is in [0.75, 1.25] h
    expect(log.map((l) => l.send.iface).sort()).toEqual([...labels].sort());
    expect(log.map((l) => l.at)).toEqual([...log.map((l) => l.at)].sort((x, y) => x - y));
  });

  it('validates its configuration', () => {
    expect(() => make({ intervalMs: 0 })).toThrow(RangeError);
    expect(() => make({ jitterMs: HOUR })).toThrow(RangeError);
    expect(() => make({ jitterMs: -1 })).toThrow(RangeError);
    expect(() => make({ interfaces: [] })).toThrow(RangeError);
    expect(() => make({ interfaces: ['a', 'a'] })).toThrow(RangeError);
    expect(() => make({ message: { hostname: 'bad\nname' } })).toThrow(WireError);
  });
});
