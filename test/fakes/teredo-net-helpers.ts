// Shared by the tests of the in-memory network (teredo-net*.test.ts): the lab's addresses, a text listener, a
// reflector that answers with the source endpoint it saw (the lab's udp-probe `reflect`), and a small world:
// a server with two addresses, a probe host, and one client behind a NAT of the kind asked for.

import { FakeClock } from '../../src/runtime/fake-clock.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { VirtualInternet, type NetworkOptions } from './teredo-net.js';
import type { NatKind, NatOptions } from './teredo-net-nat.js';
import type { VirtualDatagramPort } from './teredo-net-port.js';

export const SERVER = parseIpv4('198.18.0.10');
export const SERVER2 = parseIpv4('198.18.0.11');
export const PROBE = parseIpv4('198.18.0.30');
export const OUTSIDE = parseIpv4('198.18.0.101');
export const CLIENT = parseIpv4('192.168.1.2');
export const REFLECT_PORT = 4000;

export interface Received {
  readonly text: string;
  readonly from: string;
  readonly at: number;
}

/** Collects what a port receives as text, with the source "addr:port" (addr as int32, src/wire/ipv4.ts) and the time. */
export function listen(port: VirtualDatagramPort, clock: FakeClock): Received[] {
  const got: Received[] = [];
  port.onBatch((b) => {
    for (let i = 0; i < b.count; i++) {
      const text = new TextDecoder().decode(b.data.subarray(b.offset(i), b.offset(i) + b.length(i)));
      got.push({ text, from: `${b.sourceAddr(i)}:${b.sourcePort(i)}`, at: clock.now() });
    }
  });
  return got;
}

export function send(port: VirtualDatagramPort, text: string, addr: number, dstPort: number): void {
  const bytes = new TextEncoder().encode(text);
  port.send(bytes, 0, bytes.length, addr, dstPort);
}

/** A reflector: answers every datagram with the source it saw, "addr:port". */
export function reflect(port: VirtualDatagramPort): void {
  port.onBatch((b) => {
    for (let i = 0; i < b.count; i++) send(port, `${b.sourceAddr(i)}:${b.sourcePort(i)}`, b.sourceAddr(i), b.sourcePort(i));
  });
}

/** A server (two addresses), a probe, and a client behind a `kind` NAT, on a clock starting at 1000 ms. */
export function world(kind: NatKind = 'port-restricted', net: NetworkOptions = {}, nat: NatOptions = {}) {
  const clock = new FakeClock(1000);
  const inet = new VirtualInternet(clock, net);
  const server = inet.host([SERVER, SERVER2]);
  const probe = inet.host(PROBE);
  const router = inet.nat(kind, OUTSIDE, nat);
  const client = inet.natHost(router, CLIENT);
  return { clock, inet, server, probe, router, client };
}
