// The Server Load Reduction Extension (RFC 6081 §5.7, client-load.ts) on the in-memory network: a trusted peer
// not heard for 30 s (the host keeps sending to it, it does not answer) is refreshed by a direct bubble carrying
// a Neighbor Discovery Option solicitation and the peer's advertisement, with no datagram to or through the
// server; with the extension off on either side, or toward an RFC 4380 peer (modelled as ours with the extension
// off: it ignores the trailer, as Miredo does), the indirect bubble through the server does it, 2 s after an
// unanswered solicitation. A forged advertisement proves nothing; solicitations are answered only where a direct
// bubble is taken, paced.

import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { decodeTeredoPayload, encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReply } from '../fakes/teredo-net-native.js';
import { echoReplies, echoRequest, PRIMARY, qualifiedAnswering, ROGUE, SECONDARY, TeredoWorld } from './teredo-client-fixtures.js';

/** RFC 6081 §4.4 as the codec reads it: type 4, length 1, DiscoveryType 0 (solicitation) / 1 (advertisement). */
const SOLICITATION = [4, 1, 0];
const ADVERTISEMENT = [4, 1, 1];
/** RFC 4380 §5.2.4: a peer's entry is valid 30 s after it was last heard. */
const VALIDITY_MS = 30_000;

/** Two of our clients behind port-restricted NATs, trusting each other after a ping each way. */
function twoClients(a: { serverLoadReduction?: boolean } = {}, b: { serverLoadReduction?: boolean } = {}) {
  const w = new TeredoWorld();
  const ca = w.client('port-restricted', a);
  const cb = w.client('port-restricted', b, { seed: 9 });
  qualifiedAnswering(w, ca, cb);
  expect([echoReplies(w, ca, cb, 1), echoReplies(w, cb, ca, 1)]).toEqual([1, 1]);
  return { w, a: ca, b: cb };
}

/** RFC 4861 §4.1: ICMPv6 type 133 is a Router Solicitation (the client's maintenance, not about peers). */
const isRs = (bytes: Uint8Array): boolean => decodeTeredoPayload(bytes).ipv6[40] === 133;

/** Datagrams the server received at either address, Router Solicitations aside, from log record `since` on. */
function serverReceived(w: TeredoWorld, since: number): Uint8Array[] {
  return w.log
    .slice(since)
    .filter((r) => r.event === 'delivered' && (r.dst.addr === PRIMARY || r.dst.addr === SECONDARY) && !isRs(r.bytes))
    .map((r) => r.bytes);
}

/**
 * `from`'s host sends `to` an Echo Request every second for `seconds` s while `to`'s host answers nothing (so
 * `from` stops hearing `to`); `each` runs after every second. Returns the requests `to`'s host received.
 */
function oneWay(w: TeredoWorld, from: TeredoClientHost, to: TeredoClientHost, seconds: number, each?: () => void): number {
  const before = to.stack.received.length;
  to.stack.respond = undefined;
  for (let i = 1; i <= seconds; i++) {
    from.stack.send(echoRequest(from.engine.address!, to.engine.address!, i));
    w.runUntil(w.clock.now() + 1000);
    each?.();
  }
  to.stack.respond = echoReply;
  return to.stack.received.slice(before).filter((p) => p[40] === 128).length;
}

const counters = (w: TeredoWorld, c: TeredoClientHost) => c.engine.snapshot(w.clock.now()).counters;
/** The bubbles (next header 59) with a Neighbor Discovery Option trailer `c` sent from record `since` on. */
const withTrailer = (w: TeredoWorld, c: TeredoClientHost, since: number, trailer: number[]) =>
  w.sent(c, since).filter((s) => s.data.length === 43 && s.data[6] === 59 && [...s.data.subarray(40)].join() === trailer.join());

describe('server load reduction extension (RFC 6081 §5.7)', () => {
  for (const dir of ['a to b', 'b to a'] as const) {
    it(`two of our clients: after 30 s without an answer the path is refreshed with nothing to or through the server; pings both ways (${dir})`, () => {
      const { w, a, b } = twoClients();
      const [x, y] = dir === 'a to b' ? [a, b] : [b, a];
      const mark = w.log.length;
      const heard = w.clock.now();
      // 40 s of one-way traffic: x's entry for y lapses at 30 s and is refreshed directly, once.
      expect(oneWay(w, x, y, 40)).toBe(40);
      expect(serverReceived(w, mark)).toEqual([]);
      const solicitations = withTrailer(w, x, mark, SOLICITATION);
      expect(solicitations).toHaveLength(1);
      // To y's mapping (where it is trusted: its NAT's public address, not the server), from x to y.
      const sol = solicitations[0]!;
      expect(sol.at - heard).toBeGreaterThanOrEqual(VALIDITY_MS);
      expect([sol.addr === PRIMARY || sol.addr === SECONDARY, [...sol.data.subarray(4, 6)]]).toEqual([false, [0, 0]]);
      expect(sol.data.subarray(8, 24)).toEqual(x.engine.address);
      expect(sol.data.subarray(24, 40)).toEqual(y.engine.address);
      expect(withTrailer(w, y, mark, ADVERTISEMENT)).toHaveLength(1);
      expect([counters(w, x).loadSolicitations, counters(w, x).loadRefreshes, counters(w, x).loadFallbacks, counters(w, y).loadAdvertisements]).toEqual([1, 1, 0, 1]);
      expect([echoReplies(w, a, b, 5), echoReplies(w, b, a, 5)]).toEqual([5, 5]);
    });
  }

  it('off on the side that stops hearing: no trailer, the indirect bubble through the server refreshes; pings both ways', () => {
    const { w, a, b } = twoClients({ serverLoadReduction: false });
    const mark = w.log.length;
    expect(oneWay(w, a, b, 40)).toBe(40);
    expect(w.sent(a, mark).filter((s) => s.data.length > 40 && s.data[6] === 59)).toEqual([]);
    // The RFC 4380 way: a's indirect bubble to b through the server (40 bytes, no next header, to b's address).
    const indirect = serverReceived(w, mark).filter((d) => d.length === 40 && d[6] === 59);
    expect(indirect.length).toBeGreaterThanOrEqual(1);
    expect(indirect[0]!.subarray(24, 40)).toEqual(b.engine.address);
    expect([echoReplies(w, a, b, 5), echoReplies(w, b, a, 5)]).toEqual([5, 5]);
  });

  it('an RFC 4380 peer (the extension off there: the trailer ignored): the indirect bubble 2 s after the solicitation, and straight away next time', () => {
    const { w, a, b } = twoClients({}, { serverLoadReduction: false });
    let mark = w.log.length;
    // The requests of the 2 s wait are queued (small ones: the queue holds 2 full-size packets) and then sent.
    expect(oneWay(w, a, b, 40)).toBe(40);
    const sol = withTrailer(w, a, mark, SOLICITATION);
    expect(sol).toHaveLength(1);
    const toServer = w.sent(a, mark).filter((s) => s.addr === PRIMARY && s.data.length === 40 && s.data[6] === 59);
    expect(toServer.length).toBeGreaterThanOrEqual(1);
    expect(toServer[0]!.at - sol[0]!.at).toBe(2000);
    expect(withTrailer(w, b, mark, ADVERTISEMENT)).toEqual([]);
    expect([counters(w, a).loadFallbacks, counters(w, a).loadRefreshes]).toEqual([1, 0]);
    // The next lapse goes to the server at once: no solicitation, nothing lost.
    mark = w.log.length;
    expect(oneWay(w, a, b, 40)).toBe(40);
    expect(withTrailer(w, a, mark, SOLICITATION)).toEqual([]);
    expect(serverReceived(w, mark).filter((d) => d.length === 40 && d[6] === 59).length).toBeGreaterThanOrEqual(1);
    expect([echoReplies(w, a, b, 5), echoReplies(w, b, a, 5)]).toEqual([5, 5]);
  });

  it('a forged advertisement from another source proves nothing: no packet goes there, the peer is proven through its server', () => {
    const { w, a, b } = twoClients({}, { serverLoadReduction: false });
    const mark = w.log.length;
    const forged = encodeTeredoPayload({ ipv6: encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src: b.engine.address!, dst: a.engine.address! }, new Uint8Array(0)), trailer: Uint8Array.from(ADVERTISEMENT) });
    let forgedAt = -1;
    const received = oneWay(w, a, b, 40, () => {
      if (forgedAt >= 0 || counters(w, a).loadSolicitations !== 1) return;
      forgedAt = w.clock.now();
      a.control((e, now, s) => e.datagram(forged, 0, forged.length, ROGUE, 3544, now, s));
    });
    // Injected while the solicitation waited (before its 2 s ran out).
    const sol = withTrailer(w, a, mark, SOLICITATION);
    expect(sol).toHaveLength(1);
    expect(forgedAt - sol[0]!.at).toBeLessThan(2000);
    expect(w.sent(a, mark).filter((s) => s.addr === ROGUE)).toEqual([]);
    // Not counted as a refresh; what it did start is client-data.ts's answer to a Teredo source from another
    // mapping than its own: a proof through b's server (an Echo Request with a nonce), which b's real mapping
    // answers. The server saw it: the path was not refreshed without it.
    expect(counters(w, a).loadRefreshes).toBe(0);
    expect(serverReceived(w, mark).length).toBeGreaterThanOrEqual(1);
    // b's host got the 40 requests and the proof's Echo Request (b's engine answered the latter's arrival through
    // its server with a direct bubble to a, which proved the path).
    expect(received).toBe(41);
    expect([echoReplies(w, a, b, 5), echoReplies(w, b, a, 5)]).toEqual([5, 5]);
  });

  it('a solicitation is answered only from the mapping the sender embeds (or is trusted at), and at most once per 2 s', () => {
    const w = new TeredoWorld();
    const a = w.client('full-cone');
    qualifiedAnswering(w, a);
    const me = a.engine.address!;
    const solicit = (src: Uint8Array): void => {
      const p = encodeTeredoPayload({ ipv6: encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst: me }, new Uint8Array(0)), trailer: Uint8Array.from(SOLICITATION) });
      a.control((e, now, s) => e.datagram(p, 0, p.length, ROGUE, 3544, now, s));
    };
    const elsewhere = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 1, mappedAddr: parseIpv4('198.18.0.200'), mappedPort: 50000 });
    const embedsRogue = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 2, mappedAddr: ROGUE, mappedPort: 3544 });
    let mark = w.log.length;
    solicit(elsewhere);
    w.runUntil(w.clock.now() + 100);
    expect(w.sent(a, mark).filter((s) => s.addr === ROGUE)).toEqual([]);
    solicit(embedsRogue);
    solicit(embedsRogue);
    w.runUntil(w.clock.now() + 1900);
    solicit(embedsRogue);
    const answers = () => withTrailer(w, a, mark, ADVERTISEMENT).filter((s) => s.addr === ROGUE && s.port === 3544);
    expect(answers()).toHaveLength(1);
    expect(answers()[0]!.data.subarray(24, 40)).toEqual(embedsRogue);
    mark = w.log.length;
    w.runUntil(w.clock.now() + 100);
    solicit(embedsRogue);
    expect(answers()).toHaveLength(1);
  });
});
