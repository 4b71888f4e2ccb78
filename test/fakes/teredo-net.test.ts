// The in-memory Teredo network itself: delivery (order, latency, batches, timers), run-until-idle, the lent
// buffer rule, its bounds, and each NAT model checked against what the lab's nftables NATs do
// (src/lab/nat.ts NAT_EXPECTATIONS, the same procedure as test/netns/lab-nat.test.ts).

import { describe, expect, it } from 'vitest';
import { CONE_BINDING_TIMEOUT_S, NAT_EXPECTATIONS } from '../../src/lab/nat.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import type { DatagramBatch } from '../../src/io/ports.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { VirtualInternet, type VirtualHost, type NetworkOptions } from './teredo-net.js';
import { CONNTRACK_UDP_STREAM_TIMEOUT_MS, CONNTRACK_UDP_TIMEOUT_MS, type NatKind, type NatOptions } from './teredo-net-nat.js';
import { BATCH_SIZE, POISON_BYTE, RECEIVE_QUEUE_LIMIT, type VirtualDatagramPort } from './teredo-net-port.js';

const SERVER = parseIpv4('198.18.0.10');
const SERVER2 = parseIpv4('198.18.0.11');
const PROBE = parseIpv4('198.18.0.30');
const OUTSIDE = parseIpv4('198.18.0.101');
const CLIENT = parseIpv4('192.168.1.2');
const REFLECT_PORT = 4000;

interface Received {
  readonly text: string;
  readonly from: string;
  readonly at: number;
}

/** Collects what a port receives as text, with the source "addr:port" (addr as uint32) and the time. */
function listen(port: VirtualDatagramPort, clock: FakeClock): Received[] {
  const got: Received[] = [];
  port.onBatch((b) => {
    for (let i = 0; i < b.count; i++) {
      const text = new TextDecoder().decode(b.data.subarray(b.offset(i), b.offset(i) + b.length(i)));
      got.push({ text, from: `${b.sourceAddr(i)}:${b.sourcePort(i)}`, at: clock.now() });
    }
  });
  return got;
}

function send(port: VirtualDatagramPort, text: string, addr: number, dstPort: number): void {
  const bytes = new TextEncoder().encode(text);
  port.send(bytes, 0, bytes.length, addr, dstPort);
}

/** A reflector: answers every datagram with the source it saw, "addr:port". */
function reflect(port: VirtualDatagramPort): void {
  port.onBatch((b) => {
    for (let i = 0; i < b.count; i++) send(port, `${b.sourceAddr(i)}:${b.sourcePort(i)}`, b.sourceAddr(i), b.sourcePort(i));
  });
}

function world(kind: NatKind = 'port-restricted', net: NetworkOptions = {}, nat: NatOptions = {}) {
  const clock = new FakeClock(1000);
  const inet = new VirtualInternet(clock, net);
  const server = inet.host([SERVER, SERVER2]);
  const probe = inet.host(PROBE);
  const router = inet.nat(kind, OUTSIDE, nat);
  const client = inet.natHost(router, CLIENT);
  return { clock, inet, server, probe, router, client };
}

/** The client's mapped endpoint as seen by reflectors at `targets` (addr, port 4000), from one fresh port. */
function mappings(w: ReturnType<typeof world>, clientPort: number, targets: VirtualHost[], addrs: number[]): string[] {
  const port = w.client.bind(clientPort);
  const got = listen(port, w.clock);
  targets.forEach((h, i) => reflect(h.bind(REFLECT_PORT, addrs[i])));
  for (const a of addrs) send(port, 'map', a, REFLECT_PORT);
  w.inet.runUntilIdle();
  return addrs.map((a) => got.find((g) => g.from === `${a}:${REFLECT_PORT}`)!.text);
}

describe('delivery', () => {
  it('delivers nothing synchronously, then in send order, in one batch per instant, with the source endpoint', () => {
    const { clock, inet, server, probe } = world();
    const rx = server.bind(REFLECT_PORT);
    const got = listen(rx, clock);
    const tx = probe.bind(5000);
    for (const t of ['a', 'b', 'c']) send(tx, t, SERVER, REFLECT_PORT);
    expect(got).toEqual([]);
    const batches: number[] = [];
    rx.onBatch((b) => {
      batches.push(b.count);
      for (let i = 0; i < b.count; i++) got.push({ text: String.fromCharCode(b.data[b.offset(i)]!), from: `${b.sourceAddr(i)}:${b.sourcePort(i)}`, at: clock.now() });
    });
    inet.runUntilIdle();
    expect(got.map((g) => g.text)).toEqual(['a', 'b', 'c']);
    expect(got[0]!.from).toBe(`${PROBE}:5000`);
    expect(batches).toEqual([3]);
    expect(inet.delivered).toBe(3);
  });

  it('splits an instant larger than a batch into batches of BATCH_SIZE', () => {
    const { inet, server, probe } = world();
    const rx = server.bind(REFLECT_PORT);
    const counts: number[] = [];
    rx.onBatch((b) => counts.push(b.count));
    const tx = probe.bind(5000);
    for (let i = 0; i < BATCH_SIZE + 6; i++) send(tx, 'x', SERVER, REFLECT_PORT);
    inet.runUntilIdle();
    expect(counts).toEqual([BATCH_SIZE, 6]);
  });

  it('adds the latency of every link crossed, and interleaves with the clock timers in time order', () => {
    const clock = new FakeClock(0);
    const inet = new VirtualInternet(clock);
    const server = inet.host(SERVER, { latencyMs: 3 });
    const router = inet.nat('full-cone', OUTSIDE, { latencyMs: 5 });
    const client = inet.natHost(router, CLIENT, { latencyMs: 2 });
    const got = listen(server.bind(REFLECT_PORT), clock);
    const events: string[] = [];
    clock.setTimer(() => events.push(`timer@${clock.now()}`), 9);
    clock.setTimer(() => events.push(`timer@${clock.now()}`), 11);
    send(client.bind(6000), 'hi', SERVER, REFLECT_PORT);
    clock.advance(9);
    expect(got).toEqual([]);
    clock.advance(1);
    expect(got.map((g) => g.at)).toEqual([10]); // 2 (LAN) + 5 (NAT's link) + 3 (server's link)
    expect(events).toEqual(['timer@9']);
    inet.runUntilIdle();
    expect(events).toEqual(['timer@9']); // idle: later timers are not the network's business
  });

  it('runs request/answer exchanges to the end, and refuses traffic that never settles', () => {
    const { inet, server, probe } = world('full-cone', { eventLimit: 1000 });
    reflect(server.bind(REFLECT_PORT));
    const echo = probe.bind(5000);
    echo.onBatch((b) => {
      for (let i = 0; i < b.count; i++) echo.send(b.data, b.offset(i), b.length(i), b.sourceAddr(i), b.sourcePort(i));
    });
    send(echo, 'ping', SERVER, REFLECT_PORT);
    expect(() => inet.runUntilIdle()).toThrow(/still busy after 1000 hops/);
  });
});

describe('lent buffers', () => {
  it('overwrites a batch once the handler returns: a kept view reads poison, a copy stays intact', () => {
    const { inet, server, probe } = world();
    const rx = server.bind(REFLECT_PORT);
    let view: Uint8Array | undefined;
    let copy: Uint8Array | undefined;
    let kept: DatagramBatch | undefined;
    rx.onBatch((b) => {
      view = b.data.subarray(b.offset(0), b.offset(0) + b.length(0));
      copy = view.slice();
      kept = b;
    });
    const bytes = new TextEncoder().encode('lent');
    probe.bind(5000).send(bytes, 0, 4, SERVER, REFLECT_PORT);
    bytes.fill(0); // the sender's buffer is its own again once send() returns
    inet.runUntilIdle();
    expect(new TextDecoder().decode(copy)).toBe('lent');
    expect([...view!]).toEqual([POISON_BYTE, POISON_BYTE, POISON_BYTE, POISON_BYTE]);
    expect(kept!.count).toBe(0);
  });

  it('hands datagrams over at a non-zero offset, so code that assumes offset 0 fails', () => {
    const { inet, server, probe } = world();
    const offsets: number[] = [];
    server.bind(REFLECT_PORT).onBatch((b) => offsets.push(b.offset(0)));
    send(probe.bind(5000), 'x', SERVER, REFLECT_PORT);
    inet.runUntilIdle();
    expect(offsets[0]).toBeGreaterThan(0);
  });

  it('sends only data[offset, offset + length)', () => {
    const { clock, inet, server, probe } = world();
    const got = listen(server.bind(REFLECT_PORT), clock);
    probe.bind(5000).send(new TextEncoder().encode('xxmiddlexx'), 2, 6, SERVER, REFLECT_PORT);
    inet.runUntilIdle();
    expect(got.map((g) => g.text)).toEqual(['middle']);
  });
});

describe('TUN pair', () => {
  it('carries what one device writes to the other, after the link latency, lent; held until the reader starts', () => {
    const clock = new FakeClock(0);
    const inet = new VirtualInternet(clock);
    const [relayTun, nativeSide] = inet.tunPair(['tl-relay', 'tl-native'], { latencyMs: 4 });
    const packet = Uint8Array.of(0x60, 0, 0, 0, 0, 0, 59, 64);
    relayTun.write(packet, 0, packet.length);
    relayTun.write(packet, 0, 4);
    packet.fill(0);
    inet.advance(4);
    const got: number[][] = [];
    let view: Uint8Array | undefined;
    nativeSide.onBatch((b) => {
      for (let i = 0; i < b.count; i++) got.push([...b.data.subarray(b.offset(i), b.offset(i) + b.length(i))]);
      view = b.data.subarray(b.offset(0), b.offset(0) + 4);
    });
    expect(got).toEqual([]);
    inet.runUntilIdle();
    expect(got).toEqual([[0x60, 0, 0, 0, 0, 0, 59, 64], [0x60, 0, 0, 0]]);
    expect([...view!]).not.toEqual([0x60, 0, 0, 0]); // overwritten once the handler returned
    expect(relayTun.written).toHaveLength(2);
    nativeSide.write(Uint8Array.of(1, 2, 3));
    const back: number[] = [];
    relayTun.onBatch((b) => back.push(b.count));
    inet.runUntilIdle();
    expect(back).toEqual([1]);
    expect(clock.now()).toBe(8);
  });
});

describe('bounds and failures', () => {
  it('counts datagrams with nowhere to go', () => {
    const { inet, server, probe } = world();
    const tx = probe.bind(5000);
    send(tx, 'x', parseIpv4('198.18.0.99'), 1); // nobody holds the address
    send(tx, 'x', SERVER, 1); // nobody bound the port
    send(tx, 'x', CLIENT, 1); // a private address is not on the internet
    inet.runUntilIdle();
    expect(inet.drops()).toEqual({ 'no-route': 2, 'port-unreachable': 1 });
    expect(() => server.bind(REFLECT_PORT, PROBE)).toThrow(/not an address of this host/);
  });

  it('holds RECEIVE_QUEUE_LIMIT datagrams for a port with no handler yet, and hands them over at onBatch', () => {
    const { inet, server, probe } = world();
    const rx = server.bind(REFLECT_PORT);
    const tx = probe.bind(5000);
    for (let i = 0; i < RECEIVE_QUEUE_LIMIT + 10; i++) send(tx, 'x', SERVER, REFLECT_PORT);
    inet.runUntilIdle();
    expect(inet.drops()).toEqual({ 'receive-queue-full': 10 });
    const counts: number[] = [];
    rx.onBatch((b) => counts.push(b.count));
    inet.runUntilIdle();
    expect(counts.reduce((a, b) => a + b)).toBe(RECEIVE_QUEUE_LIMIT);
  });

  it('drops beyond the in-flight limit, and after close() the port is gone and its sends fail', async () => {
    const { inet, server, probe } = world('full-cone', { queueLimit: 2 });
    const rx = server.bind(REFLECT_PORT);
    const tx = probe.bind(5000);
    for (let i = 0; i < 3; i++) send(tx, 'x', SERVER, REFLECT_PORT);
    expect(inet.drops()).toEqual({ 'queue-full': 1 });
    await rx.close();
    inet.runUntilIdle();
    expect(inet.drops()).toEqual({ 'queue-full': 1, 'port-unreachable': 2 });
    const errors: string[] = [];
    rx.onError((e) => errors.push(e.message));
    send(rx, 'x', PROBE, 5000);
    expect(errors).toEqual(['send on a closed port']);
    expect(server.bind(REFLECT_PORT).local.port).toBe(REFLECT_PORT);
  });

  it('draws ephemeral ports from Linux ip_local_port_range and refuses a port in use', () => {
    const { probe } = world();
    expect(probe.bind().local).toEqual({ addr: PROBE, port: 32768 });
    expect(probe.bind(0).local.port).toBe(32769);
    expect(() => probe.bind(32768)).toThrow(/EADDRINUSE/);
  });
});

describe.each(Object.keys(NAT_EXPECTATIONS) as NatKind[])('%s NAT', (kind) => {
  const expected = NAT_EXPECTATIONS[kind];

  it('filters like the lab NAT: talk to server:4000, then the server from another port and the probe send', () => {
    const w = world(kind);
    const port = w.client.bind(41000);
    const got = listen(port, w.clock);
    reflect(w.server.bind(REFLECT_PORT));
    send(port, 'map', SERVER, REFLECT_PORT);
    w.inet.runUntilIdle();
    const mapped = got[0]!.text.split(':').map(Number) as [number, number];
    expect(mapped[0]).toBe(OUTSIDE);
    send(w.server.bind(REFLECT_PORT + 1), 'other-port', ...mapped);
    send(w.probe.bind(REFLECT_PORT + 2), 'other-address', ...mapped);
    w.inet.runUntilIdle();
    const texts = new Set(got.map((g) => g.text));
    expect({ otherPort: texts.has('other-port'), otherAddress: texts.has('other-address') }).toEqual({
      otherPort: expected.admitsOtherPortSameAddress,
      otherAddress: expected.admitsOtherAddress,
    });
    expect(w.inet.drops()['nat-filtered'] ?? 0).toBe(2 - Number(expected.admitsOtherAddress) - Number(expected.admitsOtherPortSameAddress));
  });

  it('maps like the lab NAT: one port for every destination (kept from the inside) or one per destination', () => {
    const w = world(kind);
    const ports = mappings(w, 41001, [w.server, w.server, w.probe], [SERVER, SERVER2, PROBE]);
    expect(new Set(ports).size === 1).toBe(expected.sameMappingForEveryDestination);
    if (expected.sameMappingForEveryDestination) expect(ports[0]).toBe(`${OUTSIDE}:41001`); // masquerade keeps the port
  });
});

/** The client (port `clientPort`) asks the server's reflector for its mapping; what it received so far. */
function learn(w: ReturnType<typeof world>, clientPort: number) {
  const port = w.client.bind(clientPort);
  const got = listen(port, w.clock);
  const reflector = w.server.bind(REFLECT_PORT);
  reflect(reflector);
  send(port, 'map', SERVER, REFLECT_PORT);
  w.inet.runUntilIdle();
  const mapped = got[0]!.text.split(':').map(Number) as [number, number];
  return { port, got, reflector, mapped };
}

describe('timeouts (Linux UDP conntrack and the lab cone bindings)', () => {
  it.each(['port-restricted', 'symmetric'] as const)('%s: a reply gets in until the flow has been silent 30 s', (kind) => {
    for (const wait of [CONNTRACK_UDP_TIMEOUT_MS - 1, CONNTRACK_UDP_TIMEOUT_MS]) {
      const w = world(kind);
      const { got, reflector, mapped } = learn(w, 41002);
      w.inet.advance(wait);
      send(reflector, 'late', ...mapped);
      w.inet.runUntilIdle();
      expect(got.map((g) => g.text).includes('late'), `after ${wait} ms`).toBe(wait < CONNTRACK_UDP_TIMEOUT_MS);
    }
  });

  it('a flow with packets both ways, still active after 2 s, lives 120 s', () => {
    const w = world('symmetric');
    const { port, got, reflector, mapped } = learn(w, 41003);
    w.inet.advance(2001);
    send(port, 'again', SERVER, REFLECT_PORT); // reflected: the flow is now a stream
    w.inet.runUntilIdle();
    w.inet.advance(CONNTRACK_UDP_STREAM_TIMEOUT_MS - 1);
    send(reflector, 'late', ...mapped);
    w.inet.runUntilIdle();
    expect(got.map((g) => g.text).at(-1)).toBe('late');
    w.inet.advance(CONNTRACK_UDP_STREAM_TIMEOUT_MS);
    send(reflector, 'too-late', ...mapped);
    w.inet.runUntilIdle();
    expect(got.map((g) => g.text).at(-1)).toBe('late');
    expect(w.inet.drops()).toEqual({ 'nat-filtered': 1 });
  });

  it.each(['full-cone', 'address-restricted'] as const)('%s: unsolicited packets get in until 120 s after the last outgoing one', (kind) => {
    const w = world(kind);
    const { port, got, mapped } = learn(w, 41004);
    const other = w.server.bind(REFLECT_PORT + 1); // admitted by the binding on both cone kinds
    w.inet.advance(CONE_BINDING_TIMEOUT_S * 1000 - 100);
    send(other, 'in-time', ...mapped); // incoming traffic does not refresh the binding...
    w.inet.runUntilIdle();
    w.inet.advance(100);
    send(w.server.bind(REFLECT_PORT + 2), 'expired', ...mapped); // ...so a third sender is refused
    w.inet.runUntilIdle();
    send(port, 'out', SERVER, REFLECT_PORT); // an outgoing packet opens the binding again
    send(w.server.bind(REFLECT_PORT + 3), 'reopened', ...mapped);
    w.inet.runUntilIdle();
    expect(got.map((g) => g.text).filter((t) => !t.includes(':'))).toEqual(['in-time', 'reopened']);
  });
});

describe('flush, block, hairpin, table limit', () => {
  it('flush() forgets flows: a port-restricted NAT refuses the reply; a full cone still admits (bindings survive)', () => {
    for (const kind of ['port-restricted', 'full-cone'] as const) {
      const w = world(kind);
      const { got, reflector, mapped } = learn(w, 41005);
      w.router.flush();
      send(reflector, 'after-flush', ...mapped);
      w.inet.runUntilIdle();
      expect(got.map((g) => g.text).includes('after-flush'), kind).toBe(kind === 'full-cone');
    }
  });

  it('flush() gives a symmetric NAT client a new mapping, and an endpoint-independent one the same', () => {
    for (const kind of ['symmetric', 'port-restricted'] as const) {
      const w = world(kind);
      const { port, got } = learn(w, 41006);
      w.router.flush();
      send(port, 'map', SERVER, REFLECT_PORT);
      w.inet.runUntilIdle();
      expect(got[1]!.text === got[0]!.text, kind).toBe(kind === 'port-restricted');
    }
  });

  it('block(addr) drops both ways and creates no state; unblock(addr) restores', () => {
    const w = world('full-cone');
    const { port, got, mapped } = learn(w, 41007);
    w.router.block(PROBE);
    const probe = w.probe.bind(5000);
    send(probe, 'blocked-in', ...mapped);
    send(port, 'blocked-out', PROBE, 5000);
    w.inet.runUntilIdle();
    expect(w.inet.drops()).toEqual({ 'nat-blocked': 2 });
    w.router.unblock(PROBE);
    send(probe, 'open', ...mapped);
    w.inet.runUntilIdle();
    expect(got.map((g) => g.text).at(-1)).toBe('open');
  });

  it('does not hairpin (the lab has no rule for it), and refuses new flows beyond its table limit', () => {
    const w = world('full-cone', {}, { tableLimit: 2 });
    const { port, mapped } = learn(w, 41008); // one flow + one binding
    send(port, 'to-self', ...mapped);
    send(w.client.bind(41009), 'new-flow', PROBE, 5000);
    w.inet.runUntilIdle();
    expect(w.inet.drops()).toEqual({ 'nat-no-hairpin': 1, 'nat-table-full': 1 });
  });
});

describe('hole punching (the bubbles of RFC 4380 §5.2.6, §5.2.9)', () => {
  /** Two clients behind their own NATs learn their mappings from the server's reflector, then punch. */
  function punch(kind2: NatKind): string[] {
    const clock = new FakeClock(0);
    const inet = new VirtualInternet(clock, { latencyMs: 2 });
    reflect(inet.host(SERVER).bind(REFLECT_PORT));
    const ends = [
      { nat: inet.nat('port-restricted', OUTSIDE), lan: CLIENT },
      { nat: inet.nat(kind2, parseIpv4('198.18.0.105')), lan: parseIpv4('192.168.5.2') },
    ].map(({ nat, lan }) => {
      const port = inet.natHost(nat, lan).bind(3544);
      return { port, got: listen(port, clock) };
    });
    for (const e of ends) send(e.port, 'map', SERVER, REFLECT_PORT);
    inet.runUntilIdle();
    const [m1, m2] = ends.map((e) => e.got[0]!.text.split(':').map(Number) as [number, number]);
    send(ends[0]!.port, 'bubble-1', ...m2!); // refused by NAT 2, but opens NAT 1 toward m2
    inet.runUntilIdle();
    send(ends[1]!.port, 'bubble-2', ...m1!); // gets in if it leaves NAT 2 from m2
    inet.runUntilIdle();
    return ends.flatMap((e) => e.got.slice(1).map((g) => g.text));
  }

  it('two port-restricted clients reach each other once each has sent first', () => {
    expect(punch('port-restricted')).toEqual(['bubble-2']);
  });

  it('a symmetric NAT leaves from another port than the server saw, so the peer NAT refuses it', () => {
    expect(punch('symmetric')).toEqual([]);
  });
});
