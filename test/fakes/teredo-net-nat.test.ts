// The NAT models of the in-memory network (teredo-net-nat.ts) checked against what the lab's nftables NATs do:
// mapping and filtering per kind (lab/nat.ts NAT_EXPECTATIONS, the procedure of
// test/netns/lab-nat.test.ts), Linux UDP conntrack and cone-binding timeouts, flush, block, hairpinning, the
// table bound, and hole punching between two NATs.

import { describe, expect, it } from 'vitest';
import { CONE_BINDING_TIMEOUT_S, NAT_EXPECTATIONS } from '../../lab/nat.js';
import { FakeClock } from '../../src/runtime/fake-clock.js';
import { parseIpv4 } from '../../src/wire/ipv4.js';
import { VirtualInternet, type VirtualHost } from './teredo-net.js';
import { CLIENT, listen, OUTSIDE, PROBE, reflect, REFLECT_PORT, send, SERVER, SERVER2, world } from './teredo-net-helpers.js';
import { CONNTRACK_UDP_STREAM_TIMEOUT_MS, CONNTRACK_UDP_TIMEOUT_MS, type NatKind } from './teredo-net-nat.js';

/** The client's mapped endpoint as seen by reflectors at `targets` (addr, port 4000), from one fresh port. */
function mappings(w: ReturnType<typeof world>, clientPort: number, targets: VirtualHost[], addrs: number[]): string[] {
  const port = w.client.bind(clientPort);
  const got = listen(port, w.clock);
  targets.forEach((h, i) => reflect(h.bind(REFLECT_PORT, addrs[i])));
  for (const a of addrs) send(port, 'map', a, REFLECT_PORT);
  w.inet.runUntilIdle();
  return addrs.map((a) => got.find((g) => g.from === `${a}:${REFLECT_PORT}`)!.text);
}

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

  it('does not hairpin without the hairpin option, and refuses new flows beyond its table limit', () => {
    const w = world('full-cone', {}, { tableLimit: 2 });
    const { port, mapped } = learn(w, 41008); // one flow + one binding
    send(port, 'to-self', ...mapped);
    send(w.client.bind(41009), 'new-flow', PROBE, 5000);
    w.inet.runUntilIdle();
    expect(w.inet.drops()).toEqual({ 'nat-no-hairpin': 1, 'nat-table-full': 1 });
  });
});

describe('address-restricted, filtering per host (filterPerHost)', () => {
  it('a packet from one port to an address opens every mapping of that host to that address, and only that host', () => {
    for (const filterPerHost of [false, true]) {
      const w = world('address-restricted', {}, { filterPerHost });
      const a = w.client.bind(41010);
      const b = w.client.bind(41011);
      const gotB = listen(b, w.clock);
      send(a, 'open', SERVER, REFLECT_PORT); // only port 41010 talks to the server
      send(b, 'map', PROBE, REFLECT_PORT); // port 41011 has a mapping, toward the probe
      const neighbour = w.inet.natHost(w.router, parseIpv4('192.168.1.3')).bind(41012);
      send(neighbour, 'map', PROBE, REFLECT_PORT);
      w.inet.runUntilIdle();
      const server = w.server.bind(REFLECT_PORT);
      send(server, 'to-b', OUTSIDE, 41011);
      send(server, 'to-neighbour', OUTSIDE, 41012);
      w.inet.runUntilIdle();
      expect(gotB.map((g) => g.text), `filterPerHost ${filterPerHost}`).toEqual(filterPerHost ? ['to-b'] : []);
      expect(w.inet.drops()['nat-filtered']).toBe(filterPerHost ? 1 : 2);
    }
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
