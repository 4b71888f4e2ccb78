// RFC 4380 §5.4.2 (reception by relays) on the engine: Teredo sources embedding the UDP source, spoofed sources,
// non-Teredo / link-local / multicast sources, destinations outside the native network, the symmetric-NAT
// proof (a bubble to the relay's fe80::<nonce>), peer table bound and expiry, and junk that never throws.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/engine/types.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import {
  bubble,
  bubbleSource,
  CLIENT,
  CLIENT_SYMMETRIC,
  echo,
  fromTun,
  fromUdp,
  HOST6,
  OTHER,
  Recorder,
  relay,
  runTimers,
  T0,
  teredoAddr,
} from './teredo-relay-fixtures.js';

const CLIENT6 = teredoAddr(CLIENT);
const kinds = (sink: Recorder): string[] => sink.take().map((e) => (e.kind === 'drop' ? e.reason : e.kind));

describe('§5.4.2: packets from Teredo clients', () => {
  it('writes a packet whose Teredo source embeds the UDP source to the TUN device, and trusts that peer', () => {
    const r = relay();
    const sink = new Recorder();
    const p = echo(CLIENT6, HOST6);
    fromUdp(r, sink, p, CLIENT, T0);
    expect(sink.take()).toEqual([{ kind: 'tun', bytes: p }]);
    expect(r.summary()).toMatchObject({ peers: 1, trusted: 1 });
    // and the answer goes straight back
    const reply = echo(HOST6, CLIENT6, 1, 129);
    fromTun(r, sink, reply, T0 + 10);
    expect(sink.take()).toEqual([{ kind: 'udp', to: CLIENT, bytes: reply }]);
    expect(r.counters.snapshot().toNative).toEqual({ packets: 1, bytes: p.length });
  });

  it('drops a forged Teredo source (its address embeds another mapping): nothing reaches the TUN device', () => {
    const r = relay();
    const sink = new Recorder();
    fromUdp(r, sink, echo(CLIENT6, HOST6), OTHER, T0);
    expect(kinds(sink)).toEqual(['relay-udp-spoofed-source']);
    // not even once the real client is a trusted peer
    fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT, T0);
    sink.take();
    fromUdp(r, sink, echo(CLIENT6, HOST6), OTHER, T0 + 1);
    expect(kinds(sink)).toEqual(['relay-udp-spoofed-source']);
    expect(r.summary().peers).toBe(1);
  });

  it('drops native, link-local and multicast sources', () => {
    const r = relay();
    const sink = new Recorder();
    for (const src of ['2001:db8:7::1', 'fe80::1', 'ff02::1', '::']) fromUdp(r, sink, echo(parseIpv6(src), HOST6), CLIENT, T0);
    expect(kinds(sink)).toEqual(Array(4).fill('relay-udp-source-not-teredo'));
    expect(r.summary().peers).toBe(0);
  });

  it('drops what is not a Teredo IPv6 packet, and sources that are not global IPv4', () => {
    const r = relay();
    const sink = new Recorder();
    fromUdp(r, sink, new Uint8Array([0x45, 0, 0, 20]), CLIENT, T0);
    fromUdp(r, sink, echo(teredoAddr({ addr: 0x0a000001, port: 1 }), HOST6), { addr: 0x0a000001, port: 1 }, T0);
    expect(kinds(sink)).toEqual(['relay-udp-not-teredo-ipv6', 'relay-udp-source-ipv4-not-global']);
  });

  it('updates the peer but never forwards to multicast, link-local or Teredo destinations', () => {
    const r = relay();
    const sink = new Recorder();
    for (const dst of ['ff02::1', 'fe80::1', '2001:0:c612:a::1']) fromUdp(r, sink, echo(CLIENT6, parseIpv6(dst)), CLIENT, T0);
    expect(kinds(sink)).toEqual(Array(3).fill('relay-udp-destination-not-native'));
    expect(r.summary().trusted).toBe(1);
  });

  it('consumes bubbles (never written to the TUN device)', () => {
    const r = relay();
    const sink = new Recorder();
    fromUdp(r, sink, bubble(CLIENT6, HOST6), CLIENT, T0);
    expect(kinds(sink)).toEqual([]);
    expect(r.counters.bubblesReceived).toBe(1);
  });

  it('with acceptUnknownPeers false (Miredo), drops packets from peers it never bubbled', () => {
    const r = relay({ acceptUnknownPeers: false });
    const sink = new Recorder();
    fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT, T0);
    expect(kinds(sink)).toEqual(['relay-udp-unknown-peer']);
  });
});

describe('clients behind symmetric NATs: the mapping proved by the relay-issued nonce', () => {
  it('trusts the mapping a bubble to fe80::<our nonce> comes from, flushes the queue there, and keeps using it', () => {
    const r = relay();
    const sink = new Recorder();
    const queued = echo(HOST6, CLIENT6, 7, 129);
    fromTun(r, sink, queued, T0);
    const [b] = sink.take();
    if (b?.kind !== 'udp') throw new Error('no bubble');

    // Data from the symmetric mapping before any proof: refused.
    fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT_SYMMETRIC, T0 + 10);
    expect(kinds(sink)).toEqual(['relay-udp-spoofed-source']);
    // A bubble to a link-local address with the wrong nonce: refused.
    const wrong = bubbleSource(b.bytes);
    wrong[15] = wrong[15]! ^ 1;
    fromUdp(r, sink, bubble(CLIENT6, wrong), CLIENT_SYMMETRIC, T0 + 20);
    expect(kinds(sink)).toEqual(['relay-udp-bubble-without-proof']);

    // The client's answer to our bubble: from its real (symmetric) mapping, to our bubble's source.
    fromUdp(r, sink, bubble(CLIENT6, bubbleSource(b.bytes)), CLIENT_SYMMETRIC, T0 + 30);
    expect(sink.take()).toEqual([{ kind: 'udp', to: CLIENT_SYMMETRIC, bytes: queued }]);
    expect(r.counters.mappingsProved).toBe(1);

    const p = echo(CLIENT6, HOST6, 8);
    fromUdp(r, sink, p, CLIENT_SYMMETRIC, T0 + 40);
    expect(sink.take()).toEqual([{ kind: 'tun', bytes: p }]);
    const q = echo(HOST6, CLIENT6, 9, 129);
    fromTun(r, sink, q, T0 + 50);
    expect(sink.take()).toEqual([{ kind: 'udp', to: CLIENT_SYMMETRIC, bytes: q }]);
  });

  it('a nonce proves nothing for another peer', () => {
    const r = relay();
    const sink = new Recorder();
    fromTun(r, sink, echo(HOST6, CLIENT6), T0);
    const [b] = sink.take();
    if (b?.kind !== 'udp') throw new Error('no bubble');
    const other6 = teredoAddr(OTHER);
    fromTun(r, sink, echo(HOST6, other6), T0);
    sink.take();
    fromUdp(r, sink, bubble(other6, bubbleSource(b.bytes)), CLIENT_SYMMETRIC, T0 + 10);
    expect(kinds(sink)).toEqual(['relay-udp-bubble-without-proof']);
  });
});

describe('peer table through the engine', () => {
  it('expires a peer 30 s after its last traffic, counting the packets still queued', () => {
    const r = relay();
    const sink = new Recorder();
    fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT, T0);
    fromTun(r, sink, echo(HOST6, teredoAddr(OTHER)), T0 + 1000);
    sink.take();
    expect(r.nextTimeout()).toBe(T0 + 3000); // OTHER's bubble retry
    runTimers(r, sink, T0 + 31_000);
    expect(r.summary().peers).toBe(1);
    expect(r.counters.peersExpired).toBe(1);
    runTimers(r, sink, T0 + 60_000);
    expect(r.summary().peers).toBe(0);
    expect(r.nextTimeout()).toBeUndefined();
  });

  it('when full, evicts the least recently used untrusted peer and counts its queued packets', () => {
    const r = relay({ maxPeers: 2 });
    const sink = new Recorder();
    fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT, T0); // trusted
    fromTun(r, sink, echo(HOST6, teredoAddr(OTHER)), T0 + 1); // untrusted, queued
    fromTun(r, sink, echo(HOST6, teredoAddr({ addr: OTHER.addr, port: 3 })), T0 + 2);
    expect(sink.take().filter((e) => e.kind === 'drop')).toEqual([{ kind: 'drop', reason: 'relay-queue-peer-removed' }]);
    expect(r.counters.peersEvicted).toBe(1);
    expect(r.summary()).toMatchObject({ peers: 2, trusted: 1 });
  });
});

describe('robustness', () => {
  it('never throws on random or mutated datagrams and TUN packets, and keeps its tables bounded', () => {
    const r = relay({ maxPeers: 64 });
    const sink = new Recorder();
    const rnd = seededRandom(99);
    const seeds = [echo(CLIENT6, HOST6), bubble(CLIENT6, HOST6), echo(HOST6, CLIENT6)];
    for (let i = 0; i < 5000; i++) {
      const base = seeds[i % seeds.length]!;
      const p = rnd.int(3) === 0 ? rnd.bytes(rnd.int(120)) : base.map((x) => (rnd.int(8) === 0 ? rnd.int(256) : x));
      const from = rnd.int(2) === 0 ? CLIENT : { addr: (0xc6120000 + rnd.int(0xffff)) >>> 0, port: 1 + rnd.int(65535) };
      if (i % 2 === 0) fromUdp(r, sink, p, from, T0 + i * 10);
      else fromTun(r, sink, p, T0 + i * 10);
      sink.take();
    }
    runTimers(r, sink, T0 + 10_000_000);
    expect(r.summary().peers).toBe(0);
  });
});
