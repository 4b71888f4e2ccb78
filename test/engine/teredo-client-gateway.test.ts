// RFC 6081 §5.3 (client-gateway.ts) on the in-memory network: a client behind a symmetric NAT whose gateway
// forwards an outside port to the Teredo port (a UPnP IGD / NAT-PMP / PCP mapping: the NAT model's forward(),
// miniupnpd's DNAT rule). With the mapping given to the engine, the client opens it toward its server before
// qualifying, qualifies as cone at the mapping, and peers behind a port-restricted NAT and native hosts reach it
// both ways. Without the mapping (RFC 4380), the same NAT is symmetric and the port-restricted peer is out of
// reach both ways.

import { describe, expect, it } from 'vitest';
import type { TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { decodeTeredoAddress } from '../../src/wire/teredo-address.js';
import type { TeredoClientHost } from '../fakes/teredo-net-engines.js';
import { echoReplies, echoRequest, HOST6, NAT_PUBLIC, PRIMARY, qualifiedAnswering, TeredoWorld } from './teredo-client-fixtures.js';

/** The gateway's outside port forwarded to the client (as miniupnpd maps it: any free port). */
const GATEWAY_PORT = 47000;
/** The client's LAN address and Teredo port (first site of TeredoWorld, CLIENT_PORT), written out. */
const CLIENT_LAN = { addr: (192 << 24) | (168 << 16) | (1 << 8) | 2, port: 40000 };

/**
 * A client behind a symmetric NAT forwarding GATEWAY_PORT to its Teredo port (when `forward`), told of that
 * mapping (when `told`), and a client behind a port-restricted NAT; both started.
 */
function world(o: { forward?: boolean; told?: boolean; params?: Partial<TeredoClientParams> } = {}) {
  const w = new TeredoWorld();
  const portMapping = o.told === false ? {} : { portMapping: { addr: NAT_PUBLIC, port: GATEWAY_PORT } };
  const sym = w.client('symmetric', { localPort: 40000, probeLocalPort: 40001, ...portMapping, ...o.params }, { start: false });
  if (o.forward !== false) w.natOf(sym).model.forward(GATEWAY_PORT, CLIENT_LAN);
  sym.start();
  const prc = w.client('port-restricted', {}, { seed: 7 });
  return { w, sym, prc };
}

/** Echo Replies the client's host got from host6, and host6 from the client, out of `n` each, 1 s apart. */
function nativeBothWays(w: TeredoWorld, c: TeredoClientHost, n: number): [number, number] {
  w.relay();
  const host6 = w.nativeHost(HOST6);
  const me = c.engine.address!;
  for (let i = 1; i <= n; i++) {
    c.stack.send(echoRequest(me, HOST6, i));
    w.runUntil(w.clock.now() + 1000);
  }
  const toHost6 = c.stack.received.filter((p) => p[40] === 129).length;
  const before = host6.received.length;
  for (let i = 1; i <= n; i++) {
    host6.send(echoRequest(HOST6, me, i));
    w.runUntil(w.clock.now() + 1000);
  }
  return [toHost6, host6.received.slice(before).filter((p) => p[40] === 129).length];
}

describe('RFC 6081 §5.3: a gateway port mapping behind a symmetric NAT', () => {
  it('opens the mapping toward the server first, then qualifies as cone at it; the NAT is still reported as it is', () => {
    const { w, sym } = world();
    w.runUntilQualified(sym);
    const s = sym.engine.snapshot(w.clock.now());
    expect(s.nat).toBe('cone');
    expect(decodeTeredoAddress(s.address!)).toMatchObject({ cone: true, mappedAddr: NAT_PUBLIC, mappedPort: GATEWAY_PORT });
    expect(s.mappedByGateway).toBe(true);
    expect(s.counters).toMatchObject({ gatewayOpened: 1, gatewayFailed: 0 });
    // The probe port's two RSs saw two drawn ports: endpoint-dependent, random (the NAT itself, not the forward).
    expect(s.mapping).toMatchObject({ endpointIndependent: false, allocation: 'random' });
    // Nothing left the Teredo port before the opening bubble came back through the forward.
    const sent = w.log.filter((r) => r.event === 'sent');
    const firstFromMain = sent.find((r) => r.src.addr === CLIENT_LAN.addr && r.src.port === CLIENT_LAN.port);
    const opening = sent.find((r) => r.src.addr === PRIMARY && r.dst.port === GATEWAY_PORT);
    expect(opening).toBeDefined();
    expect(firstFromMain!.at).toBeGreaterThanOrEqual(opening!.at);
  });

  it('a peer behind a port-restricted NAT and the client reach each other both ways', () => {
    const { w, sym, prc } = world();
    qualifiedAnswering(w, sym, prc);
    expect(echoReplies(w, sym, prc, 5)).toBeGreaterThanOrEqual(4);
    expect(echoReplies(w, prc, sym, 5)).toBe(5);
  });

  it('native IPv6 hosts through the relay, both ways', () => {
    const { w, sym } = world();
    qualifiedAnswering(w, sym);
    const [to, from] = nativeBothWays(w, sym, 5);
    expect(to).toBeGreaterThanOrEqual(4);
    expect(from).toBe(5);
  });

  it('RFC 4380 (the mapping not given): symmetric at a drawn port, and the port-restricted peer is out of reach', () => {
    const { w, sym, prc } = world({ told: false });
    qualifiedAnswering(w, sym, prc);
    const s = sym.engine.snapshot(w.clock.now());
    expect([s.nat, s.mappedByGateway]).toEqual(['symmetric', false]);
    expect(echoReplies(w, sym, prc, 3)).toBe(0);
    expect(echoReplies(w, prc, sym, 3)).toBe(0);
  });

  it('a mapping the gateway does not forward: the opening bubble never comes, qualification goes on as without it', () => {
    const { w, sym } = world({ forward: false });
    w.runUntilQualified(sym);
    const s = sym.engine.snapshot(w.clock.now());
    expect([s.nat, s.mappedByGateway]).toEqual(['symmetric', false]);
    expect(s.counters).toMatchObject({ gatewayOpened: 0, gatewayFailed: 1 });
    expect(decodeTeredoAddress(s.address!).mappedPort).not.toBe(GATEWAY_PORT);
  });

  it('a mapping at a non-global address (the home router behind a carrier NAT, 100.64.0.0/10): no opening, as without it', () => {
    const { w, sym } = world({ params: { portMapping: { addr: (100 << 24) | (64 << 16) | 7, port: GATEWAY_PORT } } });
    w.runUntilQualified(sym);
    const s = sym.engine.snapshot(w.clock.now());
    expect([s.nat, s.mappedByGateway]).toEqual(['symmetric', false]);
    expect(s.counters).toMatchObject({ gatewayOpened: 0, gatewayFailed: 0 });
  });

  it('a mapping that comes after the first qualification: the old flow to the server clashes with the opening (Linux conntrack), so the client stays symmetric', () => {
    const { w, sym } = world({ told: false });
    w.runUntilQualified(sym);
    // What the agent does when a mapping comes: new parameters, then qualification again.
    sym.control((e, now, sink) => {
      e.setPortMapping({ addr: NAT_PUBLIC, port: GATEWAY_PORT });
      e.stop(now, sink);
      e.start(now, sink);
    });
    w.runUntilQualified(sym);
    const s = sym.engine.snapshot(w.clock.now());
    expect([s.nat, s.mappedByGateway]).toEqual(['symmetric', false]);
    expect(s.counters).toMatchObject({ gatewayOpened: 0, gatewayFailed: 1 });
  });
});
