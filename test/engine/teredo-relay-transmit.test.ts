// RFC 4380 §5.4.1 (transmission by relays) on the engine: global-unicast checks on the embedded addresses,
// direct sends to trusted peers, queue + bubble through the peer's server with the §5.2.6 pacing, the queue
// flushed in order when the client answers, the give-up with ICMPv6 unreachable, the cone bit.
import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { TEREDO_FLAG_CONE } from '../../src/wire/teredo-address.js';
import { bubble, bubbleSource, CLIENT, echo, fromTun, fromUdp, HOST6, Recorder, relay, RELAY6, runTimers, SERVER, T0, teredoAddr } from './teredo-relay-fixtures.js';

const CLIENT6 = teredoAddr(CLIENT);

describe('§5.4.1 / §5.2.4: no UDP toward non-global IPv4 addresses', () => {
  for (const [what, mapped, server] of [
    ['mapped 127.0.0.1', '127.0.0.1', '198.18.0.10'],
    ['mapped 10.0.0.1', '10.0.0.1', '198.18.0.10'],
    ['mapped 192.168.1.1', '192.168.1.1', '198.18.0.10'],
    ['mapped 224.0.0.1', '224.0.0.1', '198.18.0.10'],
    ['mapped 255.255.255.255', '255.255.255.255', '198.18.0.10'],
    ['mapped 240.0.0.1', '240.0.0.1', '198.18.0.10'],
    ['server 10.0.0.1', '198.18.0.101', '10.0.0.1'],
    ['server 169.254.1.1', '198.18.0.101', '169.254.1.1'],
    ['server 0.0.0.0', '198.18.0.101', '0.0.0.0'],
  ] as const) {
    it(`drops a packet to a Teredo address with ${what}: nothing is sent, nothing is kept`, () => {
      const r = relay();
      const sink = new Recorder();
      const dst = teredoAddr({ addr: parseIpv4(mapped), port: 40001 }, parseIpv4(server));
      fromTun(r, sink, echo(HOST6, dst), T0);
      runTimers(r, sink, T0 + 60_000);
      expect(sink.events.filter((e) => e.kind === 'udp')).toEqual([]);
      expect(sink.events[0]).toEqual({ kind: 'drop', reason: what.startsWith('server') ? 'relay-tun-server-not-global' : 'relay-tun-mapping-not-global' });
      expect(r.summary().peers).toBe(0);
    });
  }

  it('also drops mapped port 0', () => {
    const r = relay();
    const sink = new Recorder();
    fromTun(r, sink, echo(HOST6, teredoAddr({ addr: CLIENT.addr, port: 0 })), T0);
    expect(sink.take()).toEqual([{ kind: 'drop', reason: 'relay-tun-mapping-not-global' }]);
  });
});

describe('§5.4.1 case 3: queue, bubble via the server, flush in order', () => {
  it('queues packets to a new peer, bubbles once through its server:3544, and flushes the queue FIFO to the mapping the reply came from', () => {
    const r = relay();
    const sink = new Recorder();
    const packets = [1, 2, 3].map((seq) => echo(HOST6, CLIENT6, seq));
    for (const [i, p] of packets.entries()) fromTun(r, sink, p, T0 + i * 100);
    const sent = sink.take();
    expect(sent).toHaveLength(1);
    const b = sent[0]!;
    expect(b.kind === 'udp' && b.to).toEqual({ addr: SERVER, port: 3544 });
    if (b.kind !== 'udp') throw new Error('no bubble');
    expect(b.bytes).toHaveLength(40);
    expect(b.bytes[6]).toBe(59); // Next Header: no next header
    expect([...b.bytes.subarray(8, 10)]).toEqual([0xfe, 0x80]);
    expect(b.bytes.subarray(24, 40)).toEqual(CLIENT6);
    expect(r.summary()).toMatchObject({ peers: 1, trusted: 0 });

    // The client answers with a bubble from its mapping, to the bubble's source.
    fromUdp(r, sink, bubble(CLIENT6, bubbleSource(b.bytes)), CLIENT, T0 + 500);
    expect(sink.take()).toEqual(packets.map((p) => ({ kind: 'udp', to: CLIENT, bytes: p })));
    expect(r.summary()).toMatchObject({ trusted: 1, queuedBytes: 0 });

    // Trusted and valid: straight to the mapping.
    const next = echo(HOST6, CLIENT6, 4);
    fromTun(r, sink, next, T0 + 600);
    expect(sink.take()).toEqual([{ kind: 'udp', to: CLIENT, bytes: next }]);
    expect(r.counters.snapshot().toTeredo).toEqual({ packets: 4, bytes: packets.reduce((n, p) => n + p.length, 0) + next.length });
  });

  it('retries every 2 s, at most 4 bubbles, then drops the queue with one ICMPv6 unreachable per packet to the native sender', () => {
    const r = relay();
    const sink = new Recorder();
    const p = echo(HOST6, CLIENT6, 9);
    fromTun(r, sink, p, T0);
    runTimers(r, sink, T0 + 20_000);
    const events = sink.take();
    const bubbles = events.filter((e) => e.kind === 'udp');
    expect(bubbles).toHaveLength(4);
    expect(r.counters.bubblesSent).toBe(4);
    const icmp = events.find((e) => e.kind === 'tun');
    if (icmp?.kind !== 'tun') throw new Error('no ICMPv6 error');
    expect(icmp.bytes[6]).toBe(58);
    expect(icmp.bytes.subarray(8, 24)).toEqual(RELAY6);
    expect(icmp.bytes.subarray(24, 40)).toEqual(HOST6);
    expect([icmp.bytes[40], icmp.bytes[41]]).toEqual([1, 3]); // destination unreachable, address unreachable
    expect(icmp.bytes.subarray(48)).toEqual(p);
    expect(events.filter((e) => e.kind === 'drop')).toEqual([{ kind: 'drop', reason: 'relay-queue-given-up' }]);

    // Within 300 s of the first bubble: no more bubbles; the sender is told at once.
    fromTun(r, sink, echo(HOST6, CLIENT6, 10), T0 + 30_000);
    const later = sink.take();
    expect(later.filter((e) => e.kind === 'udp')).toEqual([]);
    expect(later.map((e) => e.kind)).toEqual(['tun', 'drop']);
    expect(later[1]).toEqual({ kind: 'drop', reason: 'relay-tun-peer-unreachable' });
  });

  it('bubbles again once the 300 s window has passed (the entry is kept alive by the traffic for it)', () => {
    const r = relay();
    const sink = new Recorder();
    // RFC 4380 §5.2.6: no more than 4 bubbles in 300 s without a response.
    for (let t = T0; t <= T0 + 300_000 + 5000; t += 10_000) {
      fromTun(r, sink, echo(HOST6, CLIENT6, 1), t);
      runTimers(r, sink, t + 9_999);
    }
    const bubbles = sink.events.filter((e) => e.kind === 'udp');
    expect(bubbles.length).toBeGreaterThanOrEqual(5);
    expect(bubbles.length).toBeLessThanOrEqual(8);
  });

  it('bounds the queue in bytes: what does not fit is dropped, what fits is flushed', () => {
    const r = relay({ queueBytes: 2 * (2 + 100) });
    const sink = new Recorder();
    const big = [1, 2, 3].map((seq) => echo(HOST6, CLIENT6, seq, 128, 100 - 48)); // 100-byte packets
    for (const p of big) fromTun(r, sink, p, T0);
    const events = sink.take();
    expect(events.filter((e) => e.kind === 'drop')).toEqual([{ kind: 'drop', reason: 'relay-tun-queue-full' }]);
    const b = events.find((e) => e.kind === 'udp');
    if (b?.kind !== 'udp') throw new Error('no bubble');
    fromUdp(r, sink, bubble(CLIENT6, bubbleSource(b.bytes)), CLIENT, T0 + 100);
    expect(sink.take()).toEqual(big.slice(0, 2).map((bytes) => ({ kind: 'udp', to: CLIENT, bytes })));
  });

  it('a trusted peer not heard from for 30 s is bubbled again before anything is sent (§5.2.4 validity)', () => {
    const r = relay();
    const sink = new Recorder();
    fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT, T0);
    sink.take();
    fromTun(r, sink, echo(HOST6, CLIENT6, 2), T0 + 29_000);
    expect(sink.take().map((e) => e.kind === 'udp' && e.to)).toEqual([CLIENT]);
    fromTun(r, sink, echo(HOST6, CLIENT6, 3), T0 + 30_000);
    expect(sink.take()).toEqual([]); // queued; the last transmission is < 2 s old (§5.2.6)
    expect(r.nextTimeout()).toBe(T0 + 31_000);
    runTimers(r, sink, T0 + 31_000);
    expect(sink.take().map((e) => e.kind === 'udp' && e.to)).toEqual([{ addr: SERVER, port: 3544 }]);
  });

  it('a restricted relay (directBubbles) also bubbles the mapping directly', () => {
    const r = relay({ directBubbles: true });
    const sink = new Recorder();
    fromTun(r, sink, echo(HOST6, CLIENT6), T0);
    expect(sink.take().map((e) => e.kind === 'udp' && e.to)).toEqual([{ addr: SERVER, port: 3544 }, CLIENT]);
  });
});

describe('the cone bit (RFC 5991)', () => {
  const CONE6 = teredoAddr(CLIENT, SERVER, TEREDO_FLAG_CONE);

  it('is ignored by default: a cone peer is bubbled like any other', () => {
    const r = relay();
    const sink = new Recorder();
    fromTun(r, sink, echo(HOST6, CONE6), T0);
    expect(sink.take().map((e) => e.kind === 'udp' && e.to)).toEqual([{ addr: SERVER, port: 3544 }]);
  });

  it('with honorConeBit, §5.4.1 case 2: sent at once to the embedded mapping', () => {
    const r = relay({ honorConeBit: true });
    const sink = new Recorder();
    const p = echo(HOST6, CONE6);
    fromTun(r, sink, p, T0);
    expect(sink.take()).toEqual([{ kind: 'udp', to: CLIENT, bytes: p }]);
  });
});

describe('what the kernel routes into the device that is not for a Teredo peer', () => {
  it('drops link-scope chatter silently and answers a non-Teredo destination with ICMPv6 unreachable', () => {
    const r = relay();
    const sink = new Recorder();
    fromTun(r, sink, echo(parseIpv6('fe80::1'), CLIENT6), T0);
    fromTun(r, sink, echo(HOST6, parseIpv6('ff02::16')), T0);
    fromTun(r, sink, new Uint8Array(30), T0);
    expect(sink.take()).toEqual([
      { kind: 'drop', reason: 'relay-tun-link-scope' },
      { kind: 'drop', reason: 'relay-tun-link-scope' },
      { kind: 'drop', reason: 'relay-tun-malformed' },
    ]);
    fromTun(r, sink, echo(HOST6, parseIpv6('2001:db8:7::1')), T0);
    expect(sink.take().map((e) => (e.kind === 'drop' ? e.reason : e.kind))).toEqual(['tun', 'relay-tun-destination-not-teredo']);
  });

  it('rate-limits ICMPv6 errors to 10 per second by default, and sends none without a source address', () => {
    const r = relay();
    const sink = new Recorder();
    for (let i = 0; i < 25; i++) fromTun(r, sink, echo(HOST6, parseIpv6('2001:db8:7::1'), i), T0 + i);
    expect(sink.take().filter((e) => e.kind === 'tun')).toHaveLength(10);
    expect(r.counters.icmpv6RateLimited).toBe(15);
    fromTun(r, sink, echo(HOST6, parseIpv6('2001:db8:7::1')), T0 + 1000);
    expect(sink.take().filter((e) => e.kind === 'tun')).toHaveLength(1);
    const quiet = relay({ icmpv6Source: undefined });
    fromTun(quiet, sink, echo(HOST6, parseIpv6('2001:db8:7::1')), T0);
    expect(sink.take().filter((e) => e.kind === 'tun')).toEqual([]);
  });

  it('never answers an ICMPv6 error with an error', () => {
    const r = relay();
    const sink = new Recorder();
    const err = echo(HOST6, parseIpv6('2001:db8:7::1'), 1, 128);
    err[40] = 1; // type 1: destination unreachable
    fromTun(r, sink, err, T0);
    expect(sink.take().filter((e) => e.kind === 'tun')).toEqual([]);
  });
});
