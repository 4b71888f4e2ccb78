// The in-memory Teredo network itself (teredo-net.ts): delivery (order, latency, batches, timers),
// run-until-idle, the lent-buffer rule, the TUN pair, and its bounds. The NAT models: teredo-net-nat.test.ts.

import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import type { DatagramBatch } from '../../src/io/ports.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { decodeEcho, decodeIcmpv6Packet, echoMessage, encodeIcmpv6Packet } from '../../src/wire/icmpv6.js';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6-address.js';
import { VirtualInternet } from './teredo-net.js';
import { NativeNetwork, stackBehind } from './teredo-net-native.js';
import { CLIENT, listen, OUTSIDE, PROBE, reflect, REFLECT_PORT, send, SERVER, world } from './teredo-net-helpers.js';
import { BATCH_SIZE, POISON_BYTE, RECEIVE_QUEUE_LIMIT } from './teredo-net-port.js';

describe('delivery', () => {
  it('delivers nothing synchronously, then in send order, in one batch per instant, with the source endpoint', () => {
    const { clock, inet, server, probe } = world();
    const rx = server.bind(REFLECT_PORT);
    const got = listen(rx, clock);
    const tx = probe.bind(5000);
    for (const t of ['a', 'b', 'c']) send(tx, t, SERVER, REFLECT_PORT);
    expect(got).toEqual([]);
    expect(inet.inFlight).toBe(3);
    const batches: number[] = [];
    rx.onBatch((b) => {
      batches.push(b.count);
      for (let i = 0; i < b.count; i++) got.push({ text: String.fromCharCode(b.data[b.offset(i)]!), from: `${b.sourceAddr(i)}:${b.sourcePort(i)}`, at: clock.now() });
    });
    inet.runUntilIdle();
    expect(got.map((g) => g.text)).toEqual(['a', 'b', 'c']);
    expect(got[0]!.from).toBe(`${PROBE}:5000`);
    expect(batches).toEqual([3]);
    expect([inet.delivered, inet.inFlight]).toEqual([3, 0]);
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

describe('capture and spoofing', () => {
  it('records each datagram sent, delivered (as translated) and dropped (with the reason), in time order', () => {
    const { clock, inet, server, probe, client } = world('port-restricted', { latencyMs: 1 });
    const log = inet.capture();
    reflect(server.bind(REFLECT_PORT));
    const inside = client.bind(6000);
    send(inside, 'hi', SERVER, REFLECT_PORT);
    send(probe.bind(5000), 'unsolicited', OUTSIDE, 6000);
    inet.runUntilIdle();
    const rows = log.map((r) => [r.at, r.event, `${r.src.addr}:${r.src.port}`, `${r.dst.addr}:${r.dst.port}`, new TextDecoder().decode(r.bytes)]);
    expect(rows).toEqual([
      [1000, 'sent', `${CLIENT}:6000`, `${SERVER}:${REFLECT_PORT}`, 'hi'],
      [1000, 'sent', `${PROBE}:5000`, `${OUTSIDE}:6000`, 'unsolicited'],
      [1002, 'nat-filtered', `${PROBE}:5000`, `${OUTSIDE}:6000`, 'unsolicited'], // probe -> core -> NAT
      [1003, 'delivered', `${OUTSIDE}:6000`, `${SERVER}:${REFLECT_PORT}`, 'hi'], // LAN -> NAT -> core -> server
      [1003, 'sent', `${SERVER}:${REFLECT_PORT}`, `${OUTSIDE}:6000`, `${OUTSIDE}:6000`],
      [1006, 'delivered', `${SERVER}:${REFLECT_PORT}`, `${CLIENT}:6000`, `${OUTSIDE}:6000`],
    ]);
    expect(inet.capture()).toBe(log);
    expect(clock.now()).toBe(1006);
  });

  it('spoof() puts a datagram with any source on the core; the NAT judges it like any other', () => {
    const { clock, inet, server, client } = world('port-restricted');
    const inside = client.bind(6000);
    const got = listen(inside, clock);
    send(inside, 'open', SERVER, REFLECT_PORT);
    inet.runUntilIdle();
    const bytes = new TextEncoder().encode('forged');
    inet.spoof(bytes, { addr: SERVER, port: REFLECT_PORT }, { addr: OUTSIDE, port: 6000 });
    inet.spoof(bytes, { addr: SERVER, port: REFLECT_PORT + 1 }, { addr: OUTSIDE, port: 6000 });
    bytes.fill(0); // copied when sent
    inet.runUntilIdle();
    expect(got.map((g) => [g.text, g.from])).toEqual([['forged', `${SERVER}:${REFLECT_PORT}`]]);
    expect(inet.drops()).toEqual({ 'port-unreachable': 1, 'nat-filtered': 1 });
    expect(server.ports.size).toBe(0);
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

describe('native IPv6 side (teredo-net-native.ts)', () => {
  it('routes to a host by address, else into the device of the longest prefix; hosts answer Echo Requests', () => {
    const inet = new VirtualInternet(new FakeClock(0));
    const native = new NativeNetwork(inet);
    const wide = native.attach('wide', { prefix: parseIpv6('2001::'), length: 16 });
    const narrow = native.attach('narrow', { prefix: parseIpv6('2001::'), length: 32 });
    const host = native.host(parseIpv6('2001:db8::1'));
    const [intoWide, intoNarrow] = [stackBehind(wide), stackBehind(narrow)];
    const ping = (dst: string) => encodeIcmpv6Packet({ src: parseIpv6('2001:0:c612:a::1'), dst: parseIpv6(dst), hopLimit: 64 }, echoMessage(128, { id: 1, seq: 2, data: Uint8Array.of(3) }));
    intoNarrow.send(ping('2001:db8::1')); // a Teredo client's ping, written by the relay into its device
    native.route(ping('2001:1::5'));
    native.route(ping('3fff::5'));
    inet.runUntilIdle();
    expect(host.received).toEqual([ping('2001:db8::1')]);
    expect(intoWide.received).toEqual([ping('2001:1::5')]);
    // The answer (RFC 4443 §4.2: same identifier, sequence and data) went back into the /32 device.
    expect(intoNarrow.received.map((p) => formatIpv6(decodeIcmpv6Packet(p).header.dst))).toEqual(['2001:0:c612:a::1']);
    expect(decodeEcho(decodeIcmpv6Packet(intoNarrow.received[0]!).message)).toEqual({ id: 1, seq: 2, data: Uint8Array.of(3) });
    expect(native.unroutable).toBe(1);
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
