// The zoo behaviours of the in-memory NAT models (teredo-net-nat.ts options, lab/nat-zoo.ts in the lab), by the
// procedures of the lab's zoo self-tests (test/netns/lab-nat.test.ts): sequential and port-preserving ports,
// hairpinning between two hosts behind one NAT, 30 s mappings, reboot, UDP blocked, loss. Expected ports are
// written out (the sequential window starts at 20000 in the lab too), never read from the model.

import { describe, expect, it } from 'vitest';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import type { VirtualHost } from './teredo-net.js';
import { listen, OUTSIDE, PROBE, reflect, REFLECT_PORT, send, SERVER, SERVER2, world } from './teredo-net-helpers.js';
import type { NatKind, NatOptions } from './teredo-net-nat.js';

/** From `clientPort`, ask reflectors at the server's two addresses and the probe; the mapped ports seen. */
function mappedPorts(kind: NatKind, options: NatOptions, clientPort: number) {
  const w = world(kind, {}, options);
  const port = w.client.bind(clientPort);
  const got = listen(port, w.clock);
  reflect(w.server.bind(REFLECT_PORT, SERVER));
  reflect(w.server.bind(REFLECT_PORT, SERVER2));
  reflect(w.probe.bind(REFLECT_PORT));
  for (const a of [SERVER, SERVER2, PROBE]) send(port, 'map', a, REFLECT_PORT);
  w.inet.runUntilIdle();
  return { w, port, got, ports: got.map((g) => Number(g.text.split(':')[1])) };
}

describe('port allocation', () => {
  it('sequential symmetric: each new flow takes the next port from 20000', () => {
    expect(mappedPorts('symmetric', { ports: 'sequential' }, 41000).ports).toEqual([20000, 20001, 20002]);
  });

  it('port-preserving symmetric: the first flow keeps the inside port, later flows count from 20000', () => {
    expect(mappedPorts('symmetric', { ports: 'port-preserving' }, 41000).ports).toEqual([41000, 20000, 20001]);
  });

  it('port-preserving symmetric with random later flows: the first flow keeps the inside port, later ones neither keep nor count', () => {
    const [first, second, third] = mappedPorts('symmetric', { ports: 'port-preserving-random' }, 41000).ports;
    expect(first).toBe(41000);
    expect([41000, 20000]).not.toContain(second);
    expect([41000, 20000, 20001, second! + 1]).not.toContain(third);
  });

  it('sequential cone (the rebooting NAT): one port per inside endpoint, the next one for the next endpoint', () => {
    const { w, ports } = mappedPorts('port-restricted', { ports: 'sequential' }, 41000);
    expect(ports).toEqual([20000, 20000, 20000]);
    const other = w.client.bind(41001);
    const got = listen(other, w.clock);
    send(other, 'map', SERVER, REFLECT_PORT);
    w.inet.runUntilIdle();
    expect(got[0]!.text).toBe(`${OUTSIDE}:20001`);
  });
});

describe('hairpinning (two hosts behind one NAT)', () => {
  function twoHosts(hairpin: boolean) {
    const w = world('port-restricted', {}, { hairpin });
    const second: VirtualHost = w.inet.natHost(w.router, parseIpv4('192.168.1.3'));
    const a = w.client.bind(22001);
    const b = second.bind(22000);
    const gotB = listen(b, w.clock);
    reflect(w.server.bind(REFLECT_PORT));
    send(b, 'map', SERVER, REFLECT_PORT); // b's mapping: 22000 (kept)
    w.inet.runUntilIdle();
    send(a, 'hairpin', OUTSIDE, 22000);
    w.inet.runUntilIdle();
    return { w, texts: gotB.filter((g) => g.text === 'hairpin') };
  }

  it('with hairpin, a packet to the NAT address and a mapped port reaches its holder, from the sender mapping', () => {
    expect(twoHosts(true).texts.map((g) => g.from)).toEqual([`${OUTSIDE}:22001`]);
  });

  it('without, it is dropped', () => {
    const { w, texts } = twoHosts(false);
    expect(texts).toEqual([]);
    expect(w.inet.drops()['nat-no-hairpin']).toBe(1);
  });
});

describe('30 s mappings, reboot, UDP blocked, loss', () => {
  it('with 30 s stream timeouts a flow that saw replies for over 2 s dies after 30 s silent (default: lives)', () => {
    for (const [options, survives] of [[{}, true], [{ conntrackTimeoutMs: 30_000, conntrackStreamTimeoutMs: 30_000 }, false]] as const) {
      const w = world('port-restricted', {}, options);
      const port = w.client.bind(41000);
      const got = listen(port, w.clock);
      const reflector = w.server.bind(REFLECT_PORT);
      reflect(reflector);
      send(port, 'map', SERVER, REFLECT_PORT);
      w.inet.runUntilIdle();
      w.inet.advance(3000);
      send(port, 'map', SERVER, REFLECT_PORT);
      w.inet.runUntilIdle();
      w.inet.advance(30_000);
      send(reflector, 'late', OUTSIDE, 41000);
      w.inet.runUntilIdle();
      expect(got.some((g) => g.text === 'late'), JSON.stringify(options)).toBe(survives);
    }
  });

  it('reboot() forgets the mappings and a sequential NAT maps the same endpoint to a new port', () => {
    const { w, port, got, ports } = mappedPorts('port-restricted', { ports: 'sequential' }, 41000);
    w.router.reboot();
    send(w.server.bind(REFLECT_PORT + 1), 'after-reboot', OUTSIDE, ports[0]!);
    send(port, 'map', SERVER, REFLECT_PORT);
    w.inet.runUntilIdle();
    expect(got.map((g) => g.text).slice(3)).toEqual([`${OUTSIDE}:20001`]);
  });

  it('blockUdp(true) drops both ways and leaves no state; blockUdp(false) opens', () => {
    const w = world('port-restricted');
    const port = w.client.bind(41000);
    const got = listen(port, w.clock);
    reflect(w.server.bind(REFLECT_PORT));
    w.router.blockUdp(true);
    send(port, 'map', SERVER, REFLECT_PORT);
    send(w.probe.bind(5000), 'in', OUTSIDE, 41000);
    w.inet.runUntilIdle();
    expect(w.inet.drops()).toEqual({ 'nat-udp-blocked': 2 });
    expect(w.router.model.flowCount(w.clock.now())).toBe(0);
    w.router.blockUdp(false);
    send(port, 'map', SERVER, REFLECT_PORT);
    w.inet.runUntilIdle();
    expect(got.map((g) => g.text)).toEqual([`${OUTSIDE}:41000`]);
  });

  it('lossPercent 5 drops some, not all, of 400 datagrams (seeded, so always the same count)', () => {
    const w = world('port-restricted', {}, { lossPercent: 5, seed: 1 });
    const sink = w.probe.bind(5000);
    const got = listen(sink, w.clock);
    const port = w.client.bind(41000);
    for (let i = 0; i < 400; i++) {
      send(port, 'x', PROBE, 5000);
      w.inet.advance(1); // one at a time: the receive queue is bounded
    }
    w.inet.runUntilIdle();
    expect(got.length).toBeLessThan(400);
    expect(got.length).toBeGreaterThan(330);
    expect(w.inet.drops()['nat-lost']).toBe(400 - got.length);
  });
});
