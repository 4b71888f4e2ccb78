// A flood of spoofed §5.4.2 (b) peers on the relay engine (issue 17): datagrams whose Teredo source embeds their
// own UDP source each make a trusted peer, so a flood far larger than the table must stay in the embedded pool
// (maxPeers / 8) and leave alone a peer proven by our nonce (behind a symmetric NAT) and a peer host6 is trying
// to reach (pending: packets queued, bubble out). Numbers are literals; the pool bound is RFC-free policy,
// written here as 64 / 8.
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { bubble, bubbleSource, CLIENT, CLIENT_SYMMETRIC, echo, fromTun, fromUdp, HOST6, OTHER, Recorder, relay, T0, teredoAddr, type RelayEvent } from './teredo-relay-fixtures.js';

const MAX_PEERS = 64;
const EMBEDDED_POOL = 64 / 8;
const FLOOD = 20_000;
const SYMMETRIC6 = teredoAddr(CLIENT);
const PENDING6 = teredoAddr(OTHER);
const FAKE_BASE = parseIpv4('198.18.64.0');

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
    const r = relay({ maxPeers: MAX_PEERS });
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
    for (let i = 0; i < FLOOD; i++) {
      const now = T0 + 100 + Math.floor(i / 100); // 100 per ms: 200 ms of flood, no expiry involved
      const from = fake(i);
      fromUdp(r, sink, echo(teredoAddr(from), HOST6, i), from, now);
      // Every 16th datagram claims the proven peer's own address from the mapping it embeds.
      if (i % 16 === 0) fromUdp(r, sink, echo(SYMMETRIC6, HOST6, i), CLIENT, now);
      if (i % 1000 === 500) {
        sink.take();
        fromUdp(r, sink, echo(SYMMETRIC6, HOST6, 3), CLIENT_SYMMETRIC, now);
        if (sink.take().some((e) => e.kind === 'tun')) through++;
        fromTun(r, sink, echo(HOST6, SYMMETRIC6, 4, 129), now);
        if (sink.take().some((e) => e.kind === 'udp' && e.to.addr === CLIENT_SYMMETRIC.addr && e.to.port === CLIENT_SYMMETRIC.port)) back++;
      }
    }
    sink.take();
    expect([through, back]).toEqual([20, 20]);
    expect(r.summary()).toMatchObject({ peers: 2 + EMBEDDED_POOL });
    expect(r.counters.peersEvicted).toBe(FLOOD - EMBEDDED_POOL);

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
});
