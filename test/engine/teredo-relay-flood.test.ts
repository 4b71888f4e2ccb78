// Floods on the relay engine (issue 17), in virtual time, deterministic:
// - spoofed §5.4.2 (b) peers: datagrams whose Teredo source embeds their own UDP source each make a trusted
//   peer, so a flood far larger than the table must stay in the embedded pool (maxPeers / 8), cost at most the
//   unanswered bucket's datagrams per second, and leave alone a peer proven by our nonce (behind a symmetric
//   NAT), a peer host6 is trying to reach (pending: packets queued, bubble out) and a peer host6 answers;
// - the native side's flood: one host sending to many unknown Teredo destinations may make only its /64's
//   share of new pending peers, so a proven peer keeps flowing and a real new client is reached.
// Numbers are literals; the pool bound is RFC-free policy, written here as 64 / 8, and the rates are given.
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { bubble, bubbleSource, CLIENT, CLIENT_SYMMETRIC, echo, fromTun, fromUdp, HOST6, OTHER, Recorder, relay, runTimers, T0, teredoAddr, type RelayEvent } from './teredo-relay-fixtures.js';

const MAX_PEERS = 64;
const EMBEDDED_POOL = 64 / 8;
const FLOOD = 20_000;
const SYMMETRIC6 = teredoAddr(CLIENT);
const PENDING6 = teredoAddr(OTHER);
const FAKE_BASE = parseIpv4('198.18.64.0');
/** Datagrams per second the unanswered bucket passes (and its burst), given to the relay. */
const UNANSWERED_RATE = 1000;
/** A native host in another /64 than host6: the native-side attacker. */
const ATTACKER6 = parseIpv6('2001:db8:7::66');

const reasons = (events: RelayEvent[]): string[] => events.map((e) => (e.kind === 'drop' ? e.reason : e.kind));
const count = (events: RelayEvent[], what: string): number => reasons(events).filter((r) => r === what).length;

/** Spoofed source i: a distinct global mapping, embedded in the Teredo source it sends from. */
function fake(i: number): Endpoint4 {
  return { addr: (FAKE_BASE + (i >>> 12)) | 0, port: 1024 + (i & 0xfff) }; // int32, as the ports pass it
}

function theBubble(events: RelayEvent[]): Uint8Array {
  const b = events.find((e) => e.kind === 'udp');
  if (b?.kind !== 'udp') throw new Error('no bubble');
  return b.bytes;
}

describe('a flood of spoofed embedded-source peers (§5.4.2 (b), §7.3.5)', () => {
  it('keeps a proven symmetric-NAT peer and a pending peer host6 reaches; their packets flow during and after', () => {
    const r = relay({ maxPeers: MAX_PEERS, unansweredPerSecond: UNANSWERED_RATE });
    const sink = new Recorder();
    // The symmetric-NAT client, proven by the nonce of our bubble (host6 spoke first).
    fromTun(r, sink, echo(HOST6, SYMMETRIC6, 1, 129), T0);
    const proof = bubbleSource(theBubble(sink.take()));
    fromUdp(r, sink, bubble(SYMMETRIC6, proof), CLIENT_SYMMETRIC, T0 + 10);
    expect(sink.take().map((e) => e.kind)).toEqual(['udp']); // the queued packet, to its symmetric mapping
    // A client host6 starts talking to: queued, bubbled through its server, not answered yet.
    const waiting = echo(HOST6, PENDING6, 2, 129);
    fromTun(r, sink, waiting, T0 + 20);
    const pendingProof = bubbleSource(theBubble(sink.take()));

    let through = 0;
    let back = 0;
    let limited = 0;
    for (let i = 0; i < FLOOD; i++) {
      const now = T0 + 100 + Math.floor(i / 100); // 100 per ms: 200 ms of flood, no expiry involved
      const from = fake(i);
      fromUdp(r, sink, echo(teredoAddr(from), HOST6, i), from, now);
      limited += count(sink.events, 'relay-udp-unanswered-rate-limited');
      // Every 16th datagram claims the proven peer's own address from the mapping it embeds.
      if (i % 16 === 0) fromUdp(r, sink, echo(SYMMETRIC6, HOST6, i), CLIENT, now);
      if (i % 1000 === 500) {
        limited += count(sink.take(), 'relay-udp-unanswered-rate-limited');
        fromUdp(r, sink, echo(SYMMETRIC6, HOST6, 3), CLIENT_SYMMETRIC, now);
        if (sink.take().some((e) => e.kind === 'tun')) through++;
        fromTun(r, sink, echo(HOST6, SYMMETRIC6, 4, 129), now);
        if (sink.take().some((e) => e.kind === 'udp' && e.to.addr === CLIENT_SYMMETRIC.addr && e.to.port === CLIENT_SYMMETRIC.port)) back++;
      }
      if (i % 1000 !== 500) sink.events.length = 0;
    }
    sink.take();
    expect([through, back]).toEqual([20, 20]);
    expect(r.summary()).toMatchObject({ peers: 2 + EMBEDDED_POOL });
    // The bucket: its burst of 1000, then 1 per ms over the 199 ms after the first: 1199 fakes admitted (and
    // relayed), each beyond the pool of 8 evicting another; the rest dropped before any table work.
    expect(limited).toBe(FLOOD - 1199);
    expect(r.counters.peersEvicted).toBe(1199 - EMBEDDED_POOL);
    expect(r.counters.toNativePackets).toBe(1199 + 20);

    // The pending client answers our bubble now: its queued packet goes out.
    fromUdp(r, sink, bubble(PENDING6, pendingProof), OTHER, T0 + 400);
    expect(sink.take()).toEqual([{ kind: 'udp', to: OTHER, bytes: waiting }]);
  });

  it('refuses and counts a new peer when proven peers fill the table, as Miredo refuses when full', () => {
    const r = relay({ maxPeers: 2 });
    const sink = new Recorder();
    fromTun(r, sink, echo(HOST6, SYMMETRIC6, 1, 129), T0);
    fromUdp(r, sink, bubble(SYMMETRIC6, bubbleSource(theBubble(sink.take()))), CLIENT_SYMMETRIC, T0 + 10);
    sink.take(); // the queued packet, flushed to the proven mapping
    fromTun(r, sink, echo(HOST6, PENDING6, 2, 129), T0 + 20);
    fromUdp(r, sink, bubble(PENDING6, bubbleSource(theBubble(sink.take()))), OTHER, T0 + 30);
    sink.take();
    const third = fake(1);
    fromTun(r, sink, echo(HOST6, teredoAddr(third), 3, 129), T0 + 40);
    fromUdp(r, sink, echo(teredoAddr(fake(2)), HOST6, 4), fake(2), T0 + 50);
    expect(sink.take().map((e) => (e.kind === 'drop' ? e.reason : e.kind))).toEqual(['relay-tun-peer-table-full', 'relay-udp-peer-table-full']);
    expect([r.summary().peers, r.counters.peersEvicted]).toEqual([2, 0]);
  });

  it('a peer host6 answers (traffic both ways) leaves the pool: never evicted, never rate-limited by the flood', () => {
    const r = relay({ maxPeers: MAX_PEERS, unansweredPerSecond: UNANSWERED_RATE });
    const sink = new Recorder();
    const cone6 = teredoAddr(OTHER);
    // A cone client speaks first (b), host6 answers: the peer is pending now, out of the embedded pool.
    fromUdp(r, sink, echo(cone6, HOST6, 1), OTHER, T0);
    fromTun(r, sink, echo(HOST6, cone6, 1, 129), T0 + 1);
    expect(reasons(sink.take())).toEqual(['tun', 'udp']);
    expect(r.summary().classes).toEqual({ proven: 0, pending: 1, embedded: 0 });
    let through = 0;
    for (let i = 0; i < FLOOD; i++) {
      const now = T0 + 100 + Math.floor(i / 100);
      fromUdp(r, sink, echo(teredoAddr(fake(i)), HOST6, i), fake(i), now);
      if (i % 1000 === 500) {
        sink.take();
        fromUdp(r, sink, echo(cone6, HOST6, 2), OTHER, now);
        fromTun(r, sink, echo(HOST6, cone6, 2, 129), now);
        if (reasons(sink.take()).join() === 'tun,udp') through++;
      }
      sink.events.length = 0;
    }
    expect(through).toBe(20);
    expect(r.summary().classes).toEqual({ proven: 0, pending: 1, embedded: EMBEDDED_POOL });
  });
});

describe('the native side floods unknown Teredo destinations (§5.4.1 case 3, §7.3.5)', () => {
  it('one /64 makes at most its share of pending peers: a proven peer flows, a new client host6 calls is reached', () => {
    // 100 new pending peers per second per /64 (and burst): the attacker's 20,000 destinations in 200 ms make
    // 100 + 19 (0.1 per ms over 199 ms); without the limit they would push host6's new client (pending, 56
    // places) out 560 packets after it, long before it answers its bubble.
    const r = relay({ maxPeers: MAX_PEERS, newPeersPerPrefix: 100 });
    const sink = new Recorder();
    fromTun(r, sink, echo(HOST6, SYMMETRIC6, 1, 129), T0);
    fromUdp(r, sink, bubble(SYMMETRIC6, bubbleSource(theBubble(sink.take()))), CLIENT_SYMMETRIC, T0 + 10);
    sink.take();
    const pending6 = teredoAddr(OTHER);
    const waiting = echo(HOST6, pending6, 7, 129);
    let proof: Uint8Array | undefined;
    let through = 0;
    let back = 0;
    let limited = 0;
    let bubbles = 0;
    let reached: RelayEvent[] = [];
    for (let i = 0; i < FLOOD; i++) {
      const now = T0 + 100 + Math.floor(i / 100);
      fromTun(r, sink, echo(ATTACKER6, teredoAddr(fake(i)), i, 129), now);
      const events = sink.take();
      limited += count(events, 'relay-tun-new-peers-rate-limited');
      bubbles += count(events, 'udp');
      if (i === 5000) {
        fromTun(r, sink, waiting, now); // host6 calls a client the relay does not know
        proof = bubbleSource(theBubble(sink.take()));
      }
      if (i % 1000 === 500) {
        fromUdp(r, sink, echo(SYMMETRIC6, HOST6, 3), CLIENT_SYMMETRIC, now);
        if (sink.take().some((e) => e.kind === 'tun')) through++;
        fromTun(r, sink, echo(HOST6, SYMMETRIC6, 4, 129), now);
        if (sink.take().some((e) => e.kind === 'udp' && e.to.port === CLIENT_SYMMETRIC.port)) back++;
      }
      // The new client answers our bubble 100 ms (10,000 flood packets) later: its queued packet goes out.
      if (i === 15_000) {
        fromUdp(r, sink, bubble(pending6, proof!), OTHER, now);
        reached = sink.take();
      }
    }
    expect(reached).toEqual([{ kind: 'udp', to: OTHER, bytes: waiting }]);
    expect([through, back]).toEqual([20, 20]);
    expect(limited).toBe(FLOOD - 119);
    expect(bubbles).toBe(119); // one bubble per admitted destination, to its server
    expect(r.summary().classes).toEqual({ proven: 2, pending: 64 - 64 / 8, embedded: 0 }); // the pending class's bound
  });
});

describe('memory after a native-side flood', () => {
  it('the table shrinks once the flood has expired; a peer moved down keeps its bubble retries (given up on time)', () => {
    const r = relay({ maxPeers: 8192, newPeersPerPrefix: 100_000 });
    const sink = new Recorder();
    for (let i = 0; i < 5000; i++) fromTun(r, sink, echo(ATTACKER6, teredoAddr(fake(i)), i, 129), T0);
    expect(r.peers.capacity).toBe(8192);
    // host6 calls a client that never answers, 30 s later: a slot above the 1024 the table will shrink to.
    runTimers(r, sink, T0 + 30_000);
    fromTun(r, sink, echo(HOST6, teredoAddr(OTHER), 1, 129), T0 + 30_000);
    expect(r.peers.find(teredoAddr(OTHER), 0)).toBeGreaterThanOrEqual(1024);
    sink.take();
    // §5.2.6: bubbles at +0, +2, +4, +6 s (the flood's peers expire meanwhile, 30 s after their last bubble),
    // then the retry at +8 s gives up: its packet dropped, host6 told by ICMPv6.
    runTimers(r, sink, T0 + 37_999);
    expect(r.peers.capacity).toBe(1024);
    expect(r.summary().peers).toBe(1);
    const before = sink.take();
    expect(before.filter((e) => e.kind === 'udp').length).toBe(3);
    runTimers(r, sink, T0 + 38_000);
    expect(reasons(sink.take())).toEqual(['tun', 'relay-queue-given-up']);
  });
});
