// Maintenance (RFC 4380 §5.2.5) against the real server engine on the in-memory network: the refresh RS at a
// random 75-100 % of the refresh interval, skipped while the server is heard, a new address when the NAT mapping
// changes, and offline + re-qualification when the server stops answering.

import { describe, expect, it } from 'vitest';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { decodeTeredoAddress, encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { CLIENT_PORT, PRIMARY, ROGUE, SECONDARY, TeredoWorld, echoReplies, echoRequest, type Sent } from './teredo-client-fixtures.js';

/** RFC 4380 §2.15, §5.2: the refresh interval is 30 s, each wait a uniform 75-100 % of it. */
const REFRESH_MS = 30_000;
/** RFC 4380 §5.2.1: N = 3 RSs, T = 4 s apart, before giving up on the server. */
const N_X_T = 3 * 4000;

/** RFC 4861 §4.1: ICMPv6 type 133 is a Router Solicitation. */
const isRs = (s: Sent): boolean => s.port === 3544 && decodeTeredoPayload(s.data).ipv6[40] === 133;
/** RFC 4380 §5.2.1: the cone bit of the RS's link-local source (byte 8 of the address). */
const coneBit = (s: Sent): boolean => (decodeTeredoPayload(s.data).ipv6[8 + 8]! & 0x80) !== 0;

function qualified(w: TeredoWorld, c: TeredoClientHost): number {
  w.runUntilQualified(c);
  expect(c.engine.state).toBe('qualified');
  return w.clock.now();
}

/** Times of the RSs `c` sent after `after`. */
function refreshTimes(w: TeredoWorld, c: TeredoClientHost, after: number): number[] {
  return w
    .sent(c)
    .filter((s) => s.at > after && isRs(s))
    .map((s) => s.at);
}

describe('refresh timing', () => {
  it('refresh RSs come at 75-100 % of the interval after the server was last heard, never at a fixed period', () => {
    const gaps: number[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const w = new TeredoWorld();
      const c = w.client('port-restricted', {}, { seed });
      const q = qualified(w, c);
      w.runUntil(q + 200_000);
      const times = [q, ...refreshTimes(w, c, q)];
      // Each refresh RA arrives 10 ms (2 x 5 ms) after its RS; the next check is planned from that arrival.
      for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]! - (i === 1 ? 0 : 10));
    }
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.75 * REFRESH_MS);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(REFRESH_MS);
    expect(new Set(gaps).size).toBeGreaterThan(gaps.length / 2);
  });

  it('refreshes with the non-cone RS from the main socket, even a cone client (it keeps the embedded mapping alive)', () => {
    const w = new TeredoWorld();
    const c = w.client('full-cone');
    const q = qualified(w, c);
    w.runUntil(q + REFRESH_MS + 1000);
    const refresh = w.sent(c).filter((s) => s.at > q);
    expect(refresh).toHaveLength(1);
    expect(isRs(refresh[0]!)).toBe(true);
    expect(coneBit(refresh[0]!)).toBe(false);
    expect(refresh[0]!.local).toBe(CLIENT_PORT);
    expect(c.engine.state).toBe('qualified');
  });

  it('no refresh RS while the server is heard (indirect bubbles arrive through it)', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted');
    const q = qualified(w, c);
    // A relay's bubble (§5.4.1: from fe80::<nonce> to the client) through the client's server every 10 s for
    // 2 minutes: the server forwards it with an origin indication (§5.3.1), the client hears its server.
    const bubble = encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src: parseIpv6('fe80::3c85:d813:5dc2:9d41'), dst: c.engine.address! }, new Uint8Array(0));
    const relay = w.host(ROGUE).bind(3545);
    for (let t = q + 10_000; t <= q + 120_000; t += 10_000) {
      w.runUntil(t);
      relay.send(bubble, 0, bubble.length, PRIMARY, 3544);
    }
    w.runUntil(q + 120_000 + 100);
    expect(c.driver.drops()).toEqual({});
    expect(w.log.filter((r) => r.event === 'delivered' && r.src.addr === PRIMARY && r.at > q)).toHaveLength(12);
    expect(refreshTimes(w, c, q)).toEqual([]);
    w.runUntil(q + 160_000);
    expect(refreshTimes(w, c, q).length).toBeGreaterThan(0);
  });
});

describe('mapping change and loss of the server', () => {
  it('a changed mapping (the NAT lost its state, §5.2.5) gives a new address; the old one is removed', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted');
    qualified(w, c);
    const first = c.engine.address!.slice();
    w.remap(c);
    w.runUntil(w.clock.now() + REFRESH_MS + 1000);
    expect(c.engine.state).toBe('qualified');
    const second = c.engine.address!;
    expect(decodeTeredoAddress(first).mappedPort).toBe(CLIENT_PORT);
    expect(decodeTeredoAddress(second).mappedPort).not.toBe(CLIENT_PORT);
    const change = c.addresses.at(-1)!;
    expect(change.previous).toEqual(first);
    expect(change.current).toEqual(second);
  });

  it('traffic going unanswered after the NAT lost its state: the new address within seconds, not at the refresh', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted');
    qualified(w, c);
    const p = w.client('port-restricted', {}, { seed: 7 });
    w.runUntilQualified(p);
    p.stack.respond = echoReply;
    expect(echoReplies(w, c, p, 3)).toBe(3);
    const first = c.engine.address!.slice();
    w.remap(c);
    const at = w.clock.now();
    // Pings once a second: the first ones vanish (the peer answers the old mapping), then the client asks the
    // server at once, gets the new mapping, and the pings that follow come back from the new address.
    const replies = echoReplies(w, c, p, 8);
    const change = c.addresses.at(-1)!;
    expect(change.previous).toEqual(first);
    expect(decodeTeredoAddress(change.current!).mappedPort).not.toBe(CLIENT_PORT);
    expect(change.at - at).toBeLessThanOrEqual(4000); // the refresh alone would come 22.5-30 s after the last RA
    expect(replies).toBeGreaterThanOrEqual(4);
  });

  it('traffic that is never answered: one early RS, then 10 and 20 s apart, then at the maintenance pace (each found the mapping unchanged)', () => {
    const w = new TeredoWorld();
    const c = w.client('port-restricted');
    qualified(w, c);
    // A Teredo address nobody holds: the client bubbles toward it through the server and hears nothing.
    const nobody = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 0, mappedAddr: ROGUE, mappedPort: 40000 });
    const mark = w.clock.now();
    for (let i = 1; i <= 60; i++) {
      c.stack.send(echoRequest(c.engine.address!, nobody, i));
      w.runUntil(w.clock.now() + 1000);
    }
    const times = w.sent(c).filter((s) => s.at > mark && isRs(s)).map((s) => s.at - mark);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(times[0]).toBeLessThanOrEqual(3000); // the third unanswered ping
    expect(gaps.slice(0, 2).map((g) => Math.round(g / 1000))).toEqual([10, 20]);
    expect(Math.min(...gaps.slice(2))).toBeGreaterThanOrEqual(REFRESH_MS * 0.75);
  });

  it('the server stops answering: offline after N x T, address removed; back up by itself when it returns', () => {
    const w = new TeredoWorld();
    const c = w.client('symmetric');
    const q = qualified(w, c);
    w.server.stop();
    // The refresh is due within 30 s, then N x T without an answer.
    w.runUntil(q + REFRESH_MS + N_X_T);
    expect(c.states.filter((s) => s.at > q).map((s) => s.state)[0]).toBe('offline');
    expect(c.addresses.at(-1)!.current).toBeUndefined();
    expect(c.engine.snapshot(w.clock.now()).counters.offline).toBe(1);
    w.server.start();
    w.runUntil(w.clock.now() + REFRESH_MS);
    expect(c.engine.state).toBe('qualified');
    expect(c.engine.nat).toBe('symmetric');
  });

  it('re-qualifying while the NAT still holds a pinhole to the secondary on the main mapping: no false "cone"', () => {
    const w = new TeredoWorld();
    const c = w.client('address-restricted');
    qualified(w, c);
    expect(c.engine.nat).toBe('restricted');
    w.server.stop();
    w.runUntil(w.clock.now() + REFRESH_MS + N_X_T);
    expect(c.states.map((s) => s.state)).toContain('offline');
    w.server.start();
    const q = w.clock.now();
    w.runUntil(q + REFRESH_MS);
    expect(c.engine.state).toBe('qualified');
    expect(c.engine.nat).toBe('restricted');
    // The pinhole to the secondary is on the probe port's mapping (the mapping test); the cone RS went out again
    // from the Teredo port, which never sent to the secondary, so the pinhole does not cover its RA.
    expect(w.sent(c).filter((s) => s.at > q && coneBit(s)).map((s) => s.local)).toContain(CLIENT_PORT);
    expect(w.sent(c).filter((s) => s.addr === SECONDARY).map((s) => s.local)).not.toContain(CLIENT_PORT);
  });

  it('stop() removes the address and leaves nothing armed', () => {
    const w = new TeredoWorld();
    const c = w.client('full-cone');
    qualified(w, c);
    c.control((engine, now, sink) => engine.stop(now, sink));
    expect(c.engine.state).toBe('offline');
    expect(c.addresses.at(-1)!.current).toBeUndefined();
    expect(c.engine.nextTimeout()).toBeUndefined();
    expect(c.driver.stats().nextTimeout).toBeNull();
  });

  it('reconfigure with another server starts over', () => {
    const w = new TeredoWorld();
    const c = w.client('full-cone');
    qualified(w, c);
    c.control((engine, now, sink) => engine.reconfigure({ primary: PRIMARY, refreshIntervalMs: 20_000 }, now, sink));
    expect(c.engine.state).toBe('qualified');
    c.control((engine, now, sink) => engine.reconfigure({ primary: PRIMARY + 2 }, now, sink));
    expect(c.engine.state).toBe('probe-primary');
    expect(c.engine.address).toBeUndefined();
  });
});
