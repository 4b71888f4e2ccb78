// The relay end to end on the in-memory Teredo network (test/fakes/teredo-net.ts): our server engine, the real
// teredo-relay agent wiring with a TUN pair whose far end plays the native IPv6 network, and a minimal Teredo
// client behind a NAT (it learns its mapping from an RA, answers a bubble relayed by the server with its own
// bubble to the origin, RFC 4380 §5.2.3). Shared by teredo-relay-net.test.ts and teredo-relay-net-flood.test.ts.

import { expect } from 'vitest';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import type { ServerSink } from '../../src/engine/teredo/server/server-types.js';
import { seededRandom } from '../../src/engine/types.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { validateConfig } from '../../src/runtime/config.js';
import type { Endpoint4 } from '../../src/wire/endpoint.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { relaySpec } from '../../agents/teredo-relay/config.js';
import { teredoRelay } from '../../agents/teredo-relay/agent.js';
import { startOnHost } from '../agents/host-harness.js';
import { VirtualInternet, type NatKind, type VirtualDatagramPort } from '../fakes/teredo-net.js';
import { rsDatagram } from './teredo-server-fixtures.js';
import { bubble, teredoAddr } from './teredo-relay-fixtures.js';
import { FakeHost, fakeAddress6 } from '../fakes/fake-host.js';

export const SERVER = parseIpv4('198.18.0.10');
const SERVER2 = parseIpv4('198.18.0.11');
export const RELAY = parseIpv4('198.18.0.20');
export const PROBE = parseIpv4('198.18.0.30');
export const OUTSIDE = parseIpv4('198.18.0.101');
const INSIDE = parseIpv4('192.168.1.2');

/** A minimal Teredo client: qualification by one RS, bubbles answered, everything else recorded. */
export class TinyClient {
  address: Uint8Array = new Uint8Array(16);
  mapping: Endpoint4 | undefined;
  readonly received: Uint8Array[] = [];

  constructor(readonly port: VirtualDatagramPort) {
    port.onBatch((b) => {
      for (let i = 0; i < b.count; i++) this.#on(b.data.slice(b.offset(i), b.offset(i) + b.length(i)), b.sourceAddr(i), b.sourcePort(i));
    });
  }

  qualify(): void {
    const rs = rsDatagram();
    this.port.send(rs, 0, rs.length, SERVER, 3544);
  }

  send(ipv6: Uint8Array, to: Endpoint4): void {
    this.port.send(ipv6, 0, ipv6.length, to.addr, to.port);
  }

  #on(d: Uint8Array, fromAddr: number, fromPort: number): void {
    let at = 0;
    if (d[0] === 0 && d[1] === 1) at += 13 + d[2]! + d[3]!;
    let origin: Endpoint4 | undefined;
    if (d[at] === 0 && d[at + 1] === 0) {
      origin = { port: ((d[at + 2]! << 8) | d[at + 3]!) ^ 0xffff, addr: ~((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) }; // int32
      at += 8;
    }
    const ipv6 = d.subarray(at);
    if (fromAddr === SERVER && fromPort === 3544 && ipv6[6] === 58 && ipv6[40] === 134 && origin) {
      this.mapping = origin; // RA: our mapping is the origin indication
      this.address = teredoAddr(origin, SERVER);
      return;
    }
    if (ipv6.length === 40 && ipv6[6] === 59) {
      // A bubble relayed by our server from `origin`: answer it from our mapping, to the bubble's source.
      if (origin) this.send(bubble(this.address, ipv6.slice(8, 24)), origin);
      return;
    }
    this.received.push(ipv6.slice());
  }
}

/** The lab's roles on the in-memory network, the relay agent started with `flags` beside its bind address. */
export async function world(kind: NatKind, flags: Record<string, string> = {}) {
  const clock = new FakeClock(1000);
  const inet = new VirtualInternet(clock, { latencyMs: 5 });
  const serverHost = inet.host([SERVER, SERVER2]);
  const relayHost = inet.host(RELAY);
  const probe = inet.host(PROBE);
  const nat = inet.nat(kind, OUTSIDE, { seed: 3 });
  const clientHost = inet.natHost(nat, INSIDE);

  const engine = new TeredoServer({ primary: SERVER, secondary: SERVER2 });
  const sockets = [serverHost.bind(3544, SERVER), serverHost.bind(3544, SERVER2)] as const;
  const serverSink: ServerSink = { drop: () => undefined, sendUdp: (s, data, o, l, a, p) => sockets[s].send(data, o, l, a, p), writeNative: () => undefined };
  sockets.forEach((sock, s) =>
    sock.onBatch((b) => {
      for (let i = 0; i < b.count; i++) engine.datagram(s as 0 | 1, b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), clock.now(), serverSink);
    }),
  );

  const [relayTun, native] = inet.tunPair(['teredo', 'native']);
  const toNative: Uint8Array[] = [];
  native.onBatch((b) => {
    for (let i = 0; i < b.count; i++) toNative.push(b.data.slice(b.offset(i), b.offset(i) + b.length(i)));
  });
  const cfg = validateConfig(relaySpec, { flags: { bind: '198.18.0.20', ...flags } });
  if (!cfg.ok) throw new Error(cfg.problems.join('; '));
  const { agent: relay } = await startOnHost(teredoRelay, cfg.config, {
    clock,
    timers: clock,
    random: seededRandom(11),
    facts: new FakeHost({ forwarding: { all: true }, addresses: [fakeAddress6('2001:db8:6::20/64', 'eth0', 2)] }),
    openPort: (o) => Promise.resolve(relayHost.bind(o.port, o.address)),
    openTun: () => relayTun,
  });
  const client = new TinyClient(clientHost.bind(40000));
  client.qualify();
  inet.runUntilIdle();
  expect(client.mapping?.addr).toBe(OUTSIDE);
  return { clock, inet, relay, client, native, toNative, probe, status: () => relay.status() };
}

