// Shared setup for the Teredo relay engine tests: lab-like addresses, a recording sink that copies what it is
// lent, and helpers that lend input bytes the way the ports do (inside a larger buffer, overwritten after the
// call), so an engine that keeps a view of its input, or ignores the offset, fails.

import { TeredoRelay } from '../../src/engine/teredo/relay/relay.js';
import { RELAY_DROP_REASONS, type RelayDropReason, type RelaySink, type TeredoRelayParams } from '../../src/engine/teredo/relay/relay-types.js';
import { seededRandom, type Millis } from '../../src/engine/types.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { echoMessage, encodeIcmpv6Packet, ICMPV6_TYPE } from '../../src/wire/icmpv6.js';
import { encodeIpv6, NEXT_HEADER } from '../../src/wire/ipv6.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { encodeTeredoAddress } from '../../src/wire/teredo-address.js';

export const SERVER = parseIpv4('198.18.0.10');
export const RELAY_ADDR = parseIpv4('198.18.0.20');
/** A client behind a port-restricted NAT (public side 198.18.0.101). */
export const CLIENT: Endpoint4 = { addr: parseIpv4('198.18.0.101'), port: 40001 };
/** The same client's mapping toward the relay when its NAT is symmetric (another port). */
export const CLIENT_SYMMETRIC: Endpoint4 = { addr: CLIENT.addr, port: 40777 };
export const OTHER: Endpoint4 = { addr: parseIpv4('198.18.0.102'), port: 50002 };
export const HOST6 = parseIpv6('2001:db8:6::100');
export const RELAY6 = parseIpv6('2001:db8:6::20');
export const T0 = 1_000_000;

/** What the relay did, copied out of the lent buffers. */
export type RelayEvent =
  | { readonly kind: 'udp'; readonly to: Endpoint4; readonly bytes: Uint8Array }
  | { readonly kind: 'tun'; readonly bytes: Uint8Array }
  | { readonly kind: 'drop'; readonly reason: RelayDropReason };

export class Recorder implements RelaySink {
  readonly events: RelayEvent[] = [];
  drop(reason: number): void {
    this.events.push({ kind: 'drop', reason: RELAY_DROP_REASONS[reason]! });
  }
  sendUdp(data: Uint8Array, offset: number, length: number, addr: number, port: number): void {
    this.events.push({ kind: 'udp', to: { addr, port }, bytes: data.slice(offset, offset + length) });
  }
  writeTun(data: Uint8Array, offset: number, length: number): void {
    this.events.push({ kind: 'tun', bytes: data.slice(offset, offset + length) });
  }
  /** Returns and forgets the events so far. */
  take(): RelayEvent[] {
    return this.events.splice(0);
  }
}

export function relay(params: Partial<TeredoRelayParams> = {}): TeredoRelay {
  return new TeredoRelay({ random: seededRandom(3), icmpv6Source: RELAY6, ...params });
}

/** The Teredo address of a client behind `mapping` served by `server` (flags as given: 0 = no cone bit). */
export function teredoAddr(mapping: Endpoint4, server: number = SERVER, flags = 0): Uint8Array {
  return encodeTeredoAddress({ server, flags, mappedPort: mapping.port, mappedAddr: mapping.addr });
}

/** An ICMPv6 Echo Request (or Reply) with `size` data bytes, tagged by `seq`. */
export function echo(src: Uint8Array, dst: Uint8Array, seq = 1, type: 128 | 129 = ICMPV6_TYPE.ECHO_REQUEST, size = 16): Uint8Array {
  const data = new Uint8Array(size).fill(seq & 0xff);
  return encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(type, { id: 0x4242, seq, data }));
}

/** A bubble (§2.8). */
export function bubble(src: Uint8Array, dst: Uint8Array): Uint8Array {
  return encodeIpv6({ trafficClass: 0, flowLabel: 0, nextHeader: NEXT_HEADER.NO_NEXT, hopLimit: 255, src, dst }, new Uint8Array(0));
}

function lend(bytes: Uint8Array, call: (data: Uint8Array, offset: number) => void): void {
  const lent = new Uint8Array(bytes.length + 13).fill(0xee);
  lent.set(bytes, 7);
  call(lent, 7);
  lent.fill(0xdd);
}

/** An IPv6 packet routed into the relay's TUN device at `now`. */
export function fromTun(r: TeredoRelay, sink: Recorder, packet: Uint8Array, now: Millis): void {
  lend(packet, (data, offset) => r.tun(data, offset, packet.length, now, sink));
}

/** A Teredo datagram (the IPv6 packet as UDP payload) from `from` at `now`. */
export function fromUdp(r: TeredoRelay, sink: Recorder, payload: Uint8Array, from: Endpoint4, now: Millis): void {
  lend(payload, (data, offset) => r.datagram(data, offset, payload.length, from.addr, from.port, now, sink));
}

/** Runs the engine's timers up to `until`, as the driver would (each deadline in turn). */
export function runTimers(r: TeredoRelay, sink: Recorder, until: Millis): void {
  for (let next = r.nextTimeout(); next !== undefined && next <= until; next = r.nextTimeout()) r.handleTimeout(next, sink);
}

/** The fe80::<nonce> source of the relay's bubble in `udp` bytes. */
export function bubbleSource(bytes: Uint8Array): Uint8Array {
  return bytes.slice(8, 24);
}
