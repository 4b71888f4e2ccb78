// The Port-Preserving Symmetric NAT Extension (RFC 6081 §5.4, client-pps.ts) on the in-memory network: a client
// behind a symmetric NAT that keeps a new socket's port for its first flow but maps later flows at random (so
// port prediction, client-predict.ts, guesses wrong) reaches a client behind a port-restricted NAT from a pool
// socket of its own, both ways; without the extension it does not (RFC 4380).

import { describe, expect, it } from 'vitest';
import { PortPreservingPool } from '../../src/engine/teredo/client/client-pps.js';
import type { ClientSink } from '../../src/engine/teredo/client/client-types.js';
import { decodeTrailers } from '../../src/wire/teredo-trailers.js';
import type { ClientHostOptions } from '../fakes/teredo-net-engines.js';
import type { TeredoClientParams } from '../../src/engine/teredo/client/client-types.js';
import { echoReplies, NAT_PUBLIC, PRIMARY, qualifiedAnswering, TeredoWorld } from './teredo-client-fixtures.js';

/** The test host's first pool socket port (teredo-net-engines.ts), written out. */
const FIRST_POOL_PORT = 50000;

/**
 * A client behind a port-preserving symmetric NAT whose later flows are random (`params`, `o` for it), and one
 * behind a port-restricted NAT; both qualified, answering pings.
 */
function ppsAndRestricted(params: Partial<TeredoClientParams> = {}, o: ClientHostOptions = { pool: 8 }) {
  const w = new TeredoWorld();
  // The local ports, as the agent gives them: port preservation is judged from them.
  const sym = w.client('symmetric', { localPort: 40000, probeLocalPort: 40001, ...params }, { ...o, nat: { ports: 'port-preserving-random' } });
  const prc = w.client('port-restricted', {}, { seed: 7 });
  qualifiedAnswering(w, sym, prc);
  return { w, sym, prc };
}

describe('RFC 6081 §5.4 port-preserving symmetric NAT extension', () => {
  it('the NAT is reported as port-preserving, endpoint-dependent and random', () => {
    const { w, sym } = ppsAndRestricted();
    expect(sym.engine.snapshot(w.clock.now()).mapping).toMatchObject({ endpointIndependent: false, portPreserving: true, allocation: 'random' });
  });

  it('symmetric -> port-restricted and back: from a pool socket, its port told in a Random Port trailer', () => {
    const { w, sym, prc } = ppsAndRestricted();
    const mark = w.log.length;
    expect(echoReplies(w, sym, prc, 5)).toBeGreaterThanOrEqual(3);
    expect(echoReplies(w, prc, sym, 5)).toBe(5);
    // The indirect bubble through the server carried the pool socket's port (type 5, length 2)...
    const indirect = w.log.slice(mark).find((r) => r.event === 'sent' && r.dst.addr === PRIMARY && r.bytes.length === 44);
    expect(indirect && decodeTrailers(indirect.bytes.subarray(40))).toEqual([{ kind: 'random-port', port: FIRST_POOL_PORT }]);
    // ...which the NAT kept outside: the peer's packets came in at NAT_PUBLIC:50000 and reached that socket.
    const inAtPool = w.log.slice(mark).filter((r) => r.event === 'sent' && r.dst.addr === NAT_PUBLIC && r.dst.port === FIRST_POOL_PORT);
    expect(inAtPool.length).toBeGreaterThan(5);
    expect(sym.engine.snapshot(w.clock.now()).counters.randomPortsAssigned).toBe(1);
  });

  it('the port-restricted side starting first reaches the symmetric one too', () => {
    const { w, sym, prc } = ppsAndRestricted();
    expect(echoReplies(w, prc, sym, 5)).toBeGreaterThanOrEqual(3);
    expect(echoReplies(w, sym, prc, 5)).toBe(5);
  });

  it('off (--port-preserving off): prediction guesses a counting port, the NAT draws another, and nothing gets through', () => {
    const { w, sym, prc } = ppsAndRestricted({ portPreserving: false });
    expect(echoReplies(w, sym, prc, 3)).toBe(0);
    expect(sym.engine.snapshot(w.clock.now()).counters).toMatchObject({ randomPortsAssigned: 0, portsPredicted: 1 });
  });

  it('a peer on a public address (RFC 4380: trailers ignored) is still reached both ways, from a pool socket', () => {
    const w = new TeredoWorld();
    const sym = w.client('symmetric', { localPort: 40000, probeLocalPort: 40001 }, { pool: 8, nat: { ports: 'port-preserving-random' } });
    const open = w.client('none', {}, { seed: 7 });
    qualifiedAnswering(w, sym, open);
    expect(echoReplies(w, sym, open, 5)).toBeGreaterThanOrEqual(4);
    expect(echoReplies(w, open, sym, 5)).toBe(5);
    expect(sym.engine.snapshot(w.clock.now()).counters.randomPortsAssigned).toBe(1);
  });

  it('a pool of one: a second peer takes the socket back from the first, and is reached once the NAT forgot the first flow', () => {
    const w = new TeredoWorld();
    const sym = w.client('symmetric', { localPort: 40000, probeLocalPort: 40001 }, { pool: 1, nat: { ports: 'port-preserving-random' } });
    const a = w.client('port-restricted', {}, { seed: 7 });
    const b = w.client('port-restricted', {}, { seed: 8 });
    qualifiedAnswering(w, sym, a, b);
    expect(echoReplies(w, sym, a, 5)).toBeGreaterThanOrEqual(3);
    // The socket's flow toward a lives on in the NAT (120 s after a two-way exchange): b's flow from it is mapped
    // elsewhere, and the bubbles do not meet.
    expect(echoReplies(w, sym, b, 3)).toBe(0);
    // Both flows of the socket expire (nothing sent for 130 s); b is given up on meanwhile, and reached afresh.
    w.runUntil(w.clock.now() + 130_000);
    expect(echoReplies(w, sym, b, 5)).toBeGreaterThanOrEqual(3);
    expect(sym.engine.snapshot(w.clock.now()).counters.randomPortsAssigned).toBe(3);
  });

  it('no pool given (an engine without the agent\'s sockets): the same failure', () => {
    const { w, sym, prc } = ppsAndRestricted({}, {});
    expect(echoReplies(w, sym, prc, 3)).toBe(0);
  });
});

describe('the pool (client-pps.ts): one socket per peer, least recently used taken back, bounded', () => {
  const sent: number[] = [];
  const sink = { sendUdpFrom: (socket: number) => void sent.push(socket), sendUdp: () => void sent.push(-1) } as unknown as ClientSink;
  const pool = (): PortPreservingPool => {
    const p = new PortPreservingPool(16);
    p.setPorts([50000, 50001]);
    p.setNat(true);
    return p;
  };

  it('inactive unless the NAT was found port-preserving symmetric, the pool not empty and the extension on', () => {
    const p = pool();
    p.setNat(false);
    expect(p.take(3, 0, () => undefined)).toBe(-1);
    p.setNat(true);
    p.enabled = false;
    expect(p.take(3, 0, () => undefined)).toBe(-1);
    const empty = new PortPreservingPool(16);
    empty.setNat(true);
    expect(empty.take(3, 0, () => undefined)).toBe(-1);
    expect(() => empty.setPorts(new Array<number>(256).fill(50000))).toThrow(RangeError);
  });

  it('a peer keeps its socket; a third peer takes the least recently used one, and its old peer is told', () => {
    const p = pool();
    const taken: number[] = [];
    expect(p.take(3, 0, (s) => taken.push(s))).toBe(0);
    expect(p.take(4, 10, (s) => taken.push(s))).toBe(1);
    expect(p.take(3, 20, (s) => taken.push(s))).toBe(0); // peer 3 used again: peer 4 is now the least recent
    expect(p.take(5, 30, (s) => taken.push(s))).toBe(1);
    expect(taken).toEqual([4]);
    expect(p.port(1)).toBe(50001);
    expect(p.assigned).toBe(3);
    sent.length = 0;
    p.via(5, sink).sendUdp(new Uint8Array(1), 0, 1, 1, 1);
    p.via(4, sink).sendUdp(new Uint8Array(1), 0, 1, 1, 1);
    expect(sent).toEqual([1, -1]);
  });

  it('a peer leaving the table frees its socket for the next one, no one told', () => {
    const p = pool();
    const taken: number[] = [];
    p.take(3, 0, (s) => taken.push(s));
    p.take(4, 10, (s) => taken.push(s));
    p.forget(3);
    expect(p.take(5, 20, (s) => taken.push(s))).toBe(0);
    p.setPorts([50000, 50001]); // a reload giving the same pool: peer 5 keeps its socket
    expect(p.take(5, 25, (s) => taken.push(s))).toBe(0);
    expect(p.assigned).toBe(3);
    p.reset();
    expect(p.take(6, 30, (s) => taken.push(s))).toBe(0);
    expect(taken).toEqual([]);
  });
});
