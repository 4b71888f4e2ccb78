// The relay engine's batch inputs (datagrams(), packets()): the segments of a UDP_GRO or TSO superframe share
// their peer checks, and a segment that differs in any checked field (inner source, destination, framing,
// bubble-ness, UDP source) is checked on its own, exactly as datagram() / tun() would.
import { describe, expect, it } from 'vitest';
import type { TeredoRelay } from '../../src/engine/teredo/relay/relay.js';
import type { Millis } from '../../src/engine/types.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { lendBatch } from '../fakes/lend-batch.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { bubble, CLIENT, echo, fromTun, fromUdp, HOST6, OTHER, Recorder, relay, T0, teredoAddr } from './teredo-relay-fixtures.js';

const CLIENT6 = teredoAddr(CLIENT);
const OTHER6 = teredoAddr(OTHER);
const kinds = (sink: Recorder): string[] => sink.take().map((e) => (e.kind === 'drop' ? e.reason : e.kind));

function udpSuperframe(r: TeredoRelay, sink: Recorder, segments: readonly Uint8Array[], now: Millis, from: readonly Endpoint4[] = segments.map(() => CLIENT)): void {
  lendBatch(segments, from, (b) => r.datagrams(b, now, sink));
}

function tunSuperframe(r: TeredoRelay, sink: Recorder, segments: readonly Uint8Array[], now: Millis): void {
  lendBatch(segments, segments.map(() => ({ addr: 0, port: 0 })), (b) => r.packets(b, now, sink));
}

/** A relay where CLIENT is a trusted peer the native side has answered (pending class: no token per datagram). */
function answered(params: Parameters<typeof relay>[0] = {}): { r: TeredoRelay; sink: Recorder } {
  const r = relay(params);
  const sink = new Recorder();
  fromUdp(r, sink, echo(CLIENT6, HOST6), CLIENT, T0);
  fromTun(r, sink, echo(HOST6, CLIENT6, 1, 129), T0);
  sink.take();
  return { r, sink };
}

/** A copy of `p` with its IPv6 payload length off by one (a framing error in one segment). */
function misframed(p: Uint8Array): Uint8Array {
  const q = p.slice();
  q[5] = q[5]! + 1;
  return q;
}

describe('§5.4.2 for a UDP_GRO superframe (datagrams())', () => {
  it('relays every segment of a trusted peer, each byte-exact and in order', () => {
    const { r, sink } = answered();
    const segments = [1, 2, 3, 4].map((seq) => echo(CLIENT6, HOST6, seq));
    udpSuperframe(r, sink, segments, T0 + 1);
    expect(sink.take()).toEqual(segments.map((bytes) => ({ kind: 'tun', bytes })));
    expect(r.counters.snapshot().toNative.packets).toBe(1 + 4);
  });

  it('checks a segment with another inner source on its own: a forged one is dropped, the segments after it still go', () => {
    const { r, sink } = answered();
    const forged = echo(OTHER6, HOST6, 3);
    udpSuperframe(r, sink, [echo(CLIENT6, HOST6, 1), echo(CLIENT6, HOST6, 2), forged, echo(CLIENT6, HOST6, 4)], T0 + 1);
    expect(kinds(sink)).toEqual(['tun', 'tun', 'relay-udp-spoofed-source', 'tun']);
    expect(r.summary().peers).toBe(1);
  });

  it('checks a segment with another destination, a framing error or a bubble on its own', () => {
    const { r, sink } = answered();
    const segments = [echo(CLIENT6, HOST6, 1), echo(CLIENT6, OTHER6, 2), echo(CLIENT6, parseIpv6('ff02::1'), 3), misframed(echo(CLIENT6, HOST6, 4)), bubble(CLIENT6, HOST6), echo(CLIENT6, HOST6, 6)];
    udpSuperframe(r, sink, segments, T0 + 1);
    expect(kinds(sink)).toEqual(['tun', 'relay-udp-destination-not-native', 'relay-udp-destination-not-native', 'relay-udp-not-teredo-ipv6', 'tun']);
    expect(r.counters.snapshot().bubblesReceived).toBe(1);
  });

  it('checks a segment from another UDP source on its own', () => {
    const { r, sink } = answered();
    const p = echo(CLIENT6, HOST6, 1);
    udpSuperframe(r, sink, [p, p, p], T0 + 1, [CLIENT, OTHER, CLIENT]);
    expect(kinds(sink)).toEqual(['tun', 'relay-udp-spoofed-source', 'tun']);
  });

  it('charges an embedded peer (§5.4.2 (b), unanswered) one token per segment, not one per superframe', () => {
    const r = relay({ unansweredPerSecond: 2 });
    const sink = new Recorder();
    udpSuperframe(r, sink, [1, 2, 3, 4].map((seq) => echo(CLIENT6, HOST6, seq)), T0);
    expect(kinds(sink)).toEqual(['tun', 'tun', 'relay-udp-unanswered-rate-limited', 'relay-udp-unanswered-rate-limited']);
  });
});

describe('§5.4.1 for a TSO superframe from the TUN device (packets())', () => {
  it('sends every segment to a trusted peer, each byte-exact and in order', () => {
    const { r, sink } = answered();
    const segments = [1, 2, 3].map((seq) => echo(HOST6, CLIENT6, seq, 129));
    tunSuperframe(r, sink, segments, T0 + 1);
    expect(sink.take()).toEqual(segments.map((bytes) => ({ kind: 'udp', to: CLIENT, bytes })));
  });

  it('checks a segment with another source, another destination or a framing error on its own', () => {
    const { r, sink } = answered();
    const segments = [
      echo(HOST6, CLIENT6, 1, 129),
      echo(parseIpv6('fe80::1'), CLIENT6, 2, 129),
      misframed(echo(HOST6, CLIENT6, 3, 129)),
      echo(HOST6, OTHER6, 4, 129),
      echo(HOST6, CLIENT6, 5, 129),
    ];
    tunSuperframe(r, sink, segments, T0 + 1);
    // OTHER is a new peer: its packet is queued and it is bubbled through its server (one UDP datagram).
    expect(kinds(sink)).toEqual(['udp', 'relay-tun-link-scope', 'relay-tun-malformed', 'udp', 'udp']);
    expect(r.counters.snapshot().queued).toBe(1);
    expect(r.summary().peers).toBe(2);
  });

  it('re-checks validity per batch: a peer not heard from for 30 s is bubbled, its segments queued', () => {
    const { r, sink } = answered();
    tunSuperframe(r, sink, [1, 2].map((seq) => echo(HOST6, CLIENT6, seq, 129)), T0 + 30_000);
    // one bubble via the server, both segments queued
    expect(kinds(sink)).toEqual(['udp']);
    expect(r.counters.snapshot().queued).toBe(2);
  });
});
