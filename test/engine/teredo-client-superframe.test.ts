// The client engine's batch inputs (datagrams(), packets()): the segments of a UDP_GRO or TSO superframe share
// their checks, and a segment that differs in any checked field (inner source, destination, framing, bubble-ness,
// RA-ness, UDP source) is checked on its own, exactly as datagram() / tunPacket() would; the unanswered-traffic
// tracking runs once per batch of the host's packets.
import { describe, expect, it } from 'vitest';
import type { TeredoClient } from '../../src/engine/teredo/client/client.js';
import { CLIENT_DROP_REASONS, type ClientSink } from '../../src/engine/teredo/client/client-types.js';
import type { Millis } from '../../src/engine/types.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { lendBatch } from '../fakes/lend-batch.js';
import { echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';
import { PRIMARY, qualifiedTarget, ROGUE } from './teredo-client-fixtures.js';

/** RFC 4380 §2.7: the Teredo port (where the server's RSs go). */
const TEREDO = 3544;
/** The peer's mapping (ROGUE:40000), the address embedding it, and another UDP source of ROGUE. */
const PEER: Endpoint4 = { addr: ROGUE, port: 40000 };
const OTHER_PORT: Endpoint4 = { addr: ROGUE, port: 40001 };
const PEER6 = encodeTeredoAddress({ server: PRIMARY, cone: false, randomBits: 5, mappedAddr: ROGUE, mappedPort: 40000 });
/** A Teredo address whose server (10.0.0.1) is not global, from another mapping than PEER: dropped. */
const PRIVATE_SERVER6 = encodeTeredoAddress({ server: parseIpv4('10.0.0.1'), cone: false, randomBits: 5, mappedAddr: ROGUE, mappedPort: 40002 });

type Event = { kind: 'tun'; bytes: Uint8Array } | { kind: 'udp'; to: Endpoint4; bytes: Uint8Array } | { kind: string };

/** A ClientSink recording what the engine does, drops by reason name. */
class Recorder implements ClientSink {
  events: Event[] = [];
  drop(reason: number): void {
    this.events.push({ kind: CLIENT_DROP_REASONS[reason] ?? `invalid-${reason}` });
  }
  sendUdp(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    this.events.push({ kind: 'udp', to: { addr, port }, bytes: data.slice(offset, offset + length) });
  }
  sendUdpFrom(): void {
    this.events.push({ kind: 'udp-from-pool' });
  }
  sendProbe(): void {
    this.events.push({ kind: 'probe' });
  }
  writeTun(data: Uint8Array, offset: number, length: number): void {
    this.events.push({ kind: 'tun', bytes: data.slice(offset, offset + length) });
  }
  addressChanged(): void {
    this.events.push({ kind: 'address' });
  }
  stateChanged(): void {
    this.events.push({ kind: 'state' });
  }
  take(): Event[] {
    const e = this.events;
    this.events = [];
    return e;
  }
  kinds(): string[] {
    return this.take().map((e) => e.kind);
  }
}

const echo = (src: Uint8Array, dst: Uint8Array, seq: number, type: 128 | 129 | 134 = 128): Uint8Array =>
  encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(type as 128, { id: 7, seq, data: new Uint8Array(8).fill(seq) }));

/** RFC 4380 §2.8: a bubble is an IPv6 header alone, Next Header 59, payload length 0. */
const bubble = (src: Uint8Array, dst: Uint8Array): Uint8Array => encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst }, new Uint8Array(0));

/** A copy of `p` with its IPv6 payload length one more than it carries (a framing error in one segment). */
function misframed(p: Uint8Array): Uint8Array {
  const q = p.slice();
  q[5] = q[5]! + 1;
  return q;
}

const udpSuperframe = (c: TeredoClient, sink: Recorder, segments: readonly Uint8Array[], now: Millis, from: readonly Endpoint4[] = segments.map(() => PEER)): void =>
  lendBatch(segments, from, (b) => c.datagrams(b, now, sink));

const tunSuperframe = (c: TeredoClient, sink: Recorder, segments: readonly Uint8Array[], now: Millis): void =>
  lendBatch(segments, segments.map(() => ({ addr: 0, port: 0 })), (b) => c.packets(b, now, sink));

/** A qualified client (no NAT) that trusts PEER6 at PEER (its address embeds it, §5.2.3 case 3), and the time. */
function trusting(): { c: TeredoClient; me: Uint8Array; now: Millis; sink: Recorder } {
  const { w, c, me } = qualifiedTarget('none');
  const now = w.clock.now();
  const sink = new Recorder();
  c.engine.datagram(echo(PEER6, me, 0), 0, echo(PEER6, me, 0).length, PEER.addr, PEER.port, now, sink);
  expect(sink.kinds()).toEqual(['tun']);
  return { c: c.engine, me, now, sink };
}

describe('§5.2.3 for a UDP_GRO superframe (datagrams())', () => {
  it('delivers every segment of a trusted peer, each byte-exact and in order', () => {
    const { c, me, now, sink } = trusting();
    const segments = [1, 2, 3, 4].map((seq) => echo(PEER6, me, seq));
    udpSuperframe(c, sink, segments, now + 1);
    expect(sink.take()).toEqual(segments.map((bytes) => ({ kind: 'tun', bytes })));
  });

  it('checks a segment with another inner source, another destination, a framing error, a bubble or an RA on its own', () => {
    const { c, me, now, sink } = trusting();
    // Each odd one out follows a delivered segment, whose checks it would otherwise borrow.
    const good = (seq: number): Uint8Array => echo(PEER6, me, seq);
    const odd = [echo(PEER6, me, 2, 134), bubble(PEER6, me), echo(PRIVATE_SERVER6, me, 6), echo(PEER6, parseIpv6('2001:db8::1'), 8), misframed(good(10))];
    const segments = [good(1), odd[0]!, good(3), odd[1]!, good(5), odd[2]!, good(7), odd[3]!, good(9), odd[4]!, good(11)];
    udpSuperframe(c, sink, segments, now + 1);
    const events = sink.take();
    expect(events.map((e) => e.kind)).toEqual(['tun', 'ra-source-not-server', 'tun', 'tun', 'peer-server-not-global', 'tun', 'not-for-our-address', 'tun', 'malformed', 'tun']);
    expect(events.filter((e) => e.kind === 'tun')).toEqual([1, 3, 5, 7, 9, 11].map((seq) => ({ kind: 'tun', bytes: good(seq) })));
  });

  it('checks a segment from another UDP source on its own: not delivered', () => {
    const { c, me, now, sink } = trusting();
    const p = echo(PEER6, me, 1);
    udpSuperframe(c, sink, [p, p, p], now + 1, [PEER, OTHER_PORT, PEER]);
    // The middle one: a Teredo source from another mapping, asked for proof through its server (§5.2.3): an Echo
    // Request, and RFC 6081 §5.2's indirect bubble with a Nonce trailer.
    expect(sink.kinds()).toEqual(['tun', 'unknown-peer', 'udp', 'udp', 'tun']);
  });
});

describe('§5.2.4 for a TSO superframe from the TUN device (packets())', () => {
  it('sends every segment to a trusted peer at its mapping, each byte-exact and in order', () => {
    const { c, me, now, sink } = trusting();
    const segments = [1, 2, 3].map((seq) => echo(me, PEER6, seq, 129));
    tunSuperframe(c, sink, segments, now + 1);
    expect(sink.take()).toEqual(segments.map((bytes) => ({ kind: 'udp', to: PEER, bytes })));
  });

  it('checks a segment with another source, another destination or a framing error on its own', () => {
    const { c, me, now, sink } = trusting();
    const good = (seq: number): Uint8Array => echo(me, PEER6, seq, 129);
    const segments = [good(1), echo(parseIpv6('2001:db8::1'), PEER6, 2, 129), good(3), echo(me, parseIpv6('fe80::1'), 4, 129), good(5), misframed(good(6)), good(7)];
    tunSuperframe(c, sink, segments, now + 1);
    const events = sink.take();
    expect(events.map((e) => e.kind)).toEqual(['udp', 'tun-source-not-ours', 'udp', 'tun-destination-not-global', 'udp', 'tun-malformed', 'udp']);
    expect(events.filter((e) => e.kind === 'udp')).toEqual([1, 3, 5, 7].map((seq) => ({ kind: 'udp', to: PEER, bytes: good(seq) })));
  });

  it('re-checks validity per batch: a peer not heard from for 30 s is reached again, its segments queued', () => {
    const { c, me, now, sink } = trusting();
    tunSuperframe(c, sink, [1, 2].map((seq) => echo(me, PEER6, seq, 129)), now + 30_000);
    // No segment goes out: a bubble does (Next Header 59, payload length 0; RFC 6081 trailers may follow).
    const events = sink.take();
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => 'bytes' in e && e.kind === 'udp' && e.bytes[6] === 59 && e.bytes[4] === 0 && e.bytes[5] === 0)).toBe(true);
  });

  it('still notices traffic going unanswered: one RS to the server when batches go out 2 s with nothing back', () => {
    const { c, me, now, sink } = trusting();
    const rs = (events: Event[]): number => events.filter((e) => e.kind === 'udp' && 'to' in e && e.to.addr === PRIMARY && e.to.port === TEREDO).length;
    const batch = [1, 2, 3].map((seq) => echo(me, PEER6, seq, 129));
    tunSuperframe(c, sink, batch, now + 3000);
    tunSuperframe(c, sink, batch, now + 4000);
    expect(rs(sink.take())).toBe(0);
    tunSuperframe(c, sink, batch, now + 5000);
    expect(rs(sink.take())).toBe(1);
  });

  it('a datagram in between restarts the run: no RS', () => {
    const { c, me, now, sink } = trusting();
    const batch = [1, 2, 3].map((seq) => echo(me, PEER6, seq, 129));
    tunSuperframe(c, sink, batch, now + 3000);
    udpSuperframe(c, sink, [echo(PEER6, me, 1)], now + 4000);
    tunSuperframe(c, sink, batch, now + 4500);
    tunSuperframe(c, sink, batch, now + 5000);
    expect(sink.take().filter((e) => e.kind === 'udp' && 'to' in e && e.to.addr === PRIMARY)).toEqual([]);
  });
});
