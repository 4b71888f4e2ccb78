// The client engine and the server engine, both on the real Driver, on the in-memory network
// (test/fakes/teredo-net.ts) with its NAT models and one FakeClock: the NAT type each client finds behind each
// NAT kind, and Teredo to Teredo through our server's forwarding, including a peer behind a symmetric NAT.

import { describe, expect, it } from 'vitest';
import { TeredoClient } from '../../src/engine/teredo/client/client.js';
import type { ClientSink } from '../../src/engine/teredo/client/client-types.js';
import { TeredoServer } from '../../src/engine/teredo/server/server.js';
import type { ServerSink, ServerSocketIndex } from '../../src/engine/teredo/server/server-types.js';
import { seededRandom, type Millis } from '../../src/engine/types.js';
import type { DatagramBatch } from '../../src/io/ports.js';
import { Driver } from '../../src/runtime/driver.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { TEREDO_PORT } from '../../src/wire/teredo-constants.js';
import { capturedLogger } from '../fakes/log-capture.js';
import { VirtualInternet, type NatKind } from '../fakes/teredo-net.js';

const PRIMARY = parseIpv4('198.18.0.10');
const SECONDARY = parseIpv4('198.18.0.11');

function network() {
  const clock = new FakeClock(0);
  const inet = new VirtualInternet(clock, { latencyMs: 5 });
  const host = inet.host([PRIMARY, SECONDARY]);
  const sockets = [host.bind(TEREDO_PORT, PRIMARY), host.bind(TEREDO_PORT, SECONDARY)] as const;
  const server = new TeredoServer({ primary: PRIMARY, secondary: SECONDARY });
  const driver = new Driver<ServerSink>({
    engine: server,
    logger: capturedLogger('server', 'info').logger,
    clock,
    timers: clock,
    sink: (drop) => ({ drop, sendUdp: (socket, data, offset, length, addr, port) => sockets[socket].send(data, offset, length, addr, port), writeNative: () => undefined }),
  });
  const step = (socket: ServerSocketIndex) => (b: DatagramBatch, now: Millis, sink: ServerSink): void => {
    for (let i = 0; i < b.count; i++) server.datagram(socket, b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, sink);
  };
  sockets.forEach((s, i) => s.onBatch((b) => driver.batch(step(i as ServerSocketIndex), b)));
  driver.start();
  return { clock, inet };
}

let nextSite = 1;

/** A client engine on its Driver behind a fresh `kind` NAT: main socket, probe socket, a TUN that collects. */
function client(net: ReturnType<typeof network>, kind: NatKind) {
  const n = nextSite++;
  const host = net.inet.natHost(net.inet.nat(kind, parseIpv4(`198.18.0.${100 + n}`)), parseIpv4(`192.168.${n}.2`));
  const main = host.bind(40000);
  const probe = host.bind(40001);
  const engine = new TeredoClient({ primary: PRIMARY }, seededRandom(n));
  const tun: Uint8Array[] = [];
  const driver = new Driver<ClientSink>({
    engine,
    logger: capturedLogger('client', 'info').logger,
    clock: net.clock,
    timers: net.clock,
    sink: (drop) => ({
      drop,
      sendUdp: (d, o, l, a, p) => main.send(d, o, l, a, p),
      sendProbe: (d, o, l, a, p) => probe.send(d, o, l, a, p),
      writeTun: (d, o, l) => void tun.push(d.slice(o, o + l)),
      addressChanged: () => undefined,
      stateChanged: () => undefined,
    }),
  });
  const udp = (b: DatagramBatch, now: Millis, s: ClientSink): void => {
    for (let i = 0; i < b.count; i++) engine.datagram(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, s);
  };
  const probed = (b: DatagramBatch, now: Millis, s: ClientSink): void => {
    for (let i = 0; i < b.count; i++) engine.probeDatagram(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i), now, s);
  };
  main.onBatch((b) => driver.batch(udp, b));
  probe.onBatch((b) => driver.batch(probed, b));
  driver.start();
  driver.batch((_: undefined, now, s) => engine.start(now, s), undefined);
  const fromTun = (p: Uint8Array): void => driver.batch((pkt: Uint8Array, now, s) => engine.tunPacket(pkt, 0, pkt.length, now, s), p);
  // The host's kernel: answers the Echo Requests written to the TUN device (as Linux does), once each.
  let answered = 0;
  const kernel = (): void => {
    for (; answered < tun.length; answered++) {
      const p = decodeIcmpv6Packet(tun[answered]!);
      if (p.message.type !== 128) continue;
      fromTun(encodeIcmpv6Packet({ src: p.header.dst, dst: p.header.src, hopLimit: 64 }, { type: 129, code: 0, body: p.message.body }));
    }
  };
  return { engine, driver, tun, fromTun, kernel };
}

const ping = (src: Uint8Array, dst: Uint8Array, seq: number): Uint8Array => encodeIcmpv6Packet({ src, dst, hopLimit: 64 }, echoMessage(128, { id: 1, seq, data: new Uint8Array(16) }));

describe('client and server engines on the in-memory network', () => {
  const expected: [NatKind, string][] = [
    ['full-cone', 'cone'],
    ['address-restricted', 'restricted'],
    ['port-restricted', 'restricted'],
    ['symmetric', 'symmetric'],
  ];
  for (const [kind, nat] of expected) {
    it(`${kind} NAT -> ${nat}, qualified in under 0.5 s with 5 ms links`, () => {
      const net = network();
      const c = client(net, kind);
      net.clock.advance(500);
      expect(c.engine.state).toBe('qualified');
      expect(c.engine.nat).toBe(nat);
      expect(c.engine.snapshot(net.clock.now()).qualificationMs).toBeLessThan(500);
    });
  }

  it('Teredo to Teredo: two port-restricted clients reach each other after the bubble exchange', () => {
    const net = network();
    const x = client(net, 'port-restricted');
    const y = client(net, 'port-restricted');
    net.clock.advance(500);
    const [a, b] = [x.engine.address!, y.engine.address!];
    for (let seq = 1; seq <= 3; seq++) {
      x.fromTun(ping(a, b, seq));
      for (let t = 0; t < 10; t++) {
        net.clock.advance(50);
        y.kernel();
      }
    }
    // All three, queued while the bubbles opened both NATs, then sent directly.
    expect(y.tun.filter((p) => decodeIcmpv6Packet(p).message.type === 128)).toHaveLength(3);
    expect(x.tun.filter((p) => decodeIcmpv6Packet(p).message.type === 129)).toHaveLength(3);
  });

  it('Teredo to Teredo through our server: port-restricted -> full cone, and symmetric <-> full cone (proof through the server)', () => {
    const net = network();
    const prc = client(net, 'port-restricted');
    const fc = client(net, 'full-cone');
    const sym = client(net, 'symmetric');
    net.clock.advance(500);
    const [a, b, s] = [prc.engine.address!, fc.engine.address!, sym.engine.address!];
    prc.fromTun(ping(a, b, 1));
    net.clock.advance(100);
    expect(fc.tun).toHaveLength(1);
    // The symmetric client's first packet to the cone peer is dropped while the peer asks for proof through
    // the server; the next ones arrive, and the answers go back to the port they really came from.
    const fcBefore = fc.tun.length;
    for (let seq = 1; seq <= 3; seq++) {
      sym.fromTun(ping(s, b, seq));
      for (let t = 0; t < 10; t++) {
        net.clock.advance(50);
        sym.kernel();
        fc.kernel();
      }
    }
    const fromSym = fc.tun.slice(fcBefore).filter((p) => decodeIcmpv6Packet(p).header.src.every((x, i) => x === s[i]));
    expect(fromSym.length).toBeGreaterThanOrEqual(2);
    // ... and the cone client's answers reached the symmetric one (Echo Replies to its pings).
    expect(sym.tun.filter((p) => decodeIcmpv6Packet(p).message.type === 129).length).toBeGreaterThanOrEqual(2);
  });
});
