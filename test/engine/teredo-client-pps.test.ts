// The Port-Preserving Symmetric NAT Extension (RFC 6081 §5.4, client-pps.ts) on the in-memory network: a client
// behind a symmetric NAT that keeps a new socket's port for its first flow but maps later flows at random (so
// port prediction, client-predict.ts, guesses wrong) reaches a client behind a port-restricted NAT from a pool
// socket of its own, both ways; without the extension it does not (RFC 4380).

import { describe, expect, it } from 'vitest';
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
    expect(sym.engine.snapshot(w.clock.now()).counters.randomPortsAssigned).toBe(0);
  });

  it('no pool given (an engine without the agent\'s sockets): the same failure', () => {
    const { w, sym, prc } = ppsAndRestricted({}, {});
    expect(echoReplies(w, sym, prc, 3)).toBe(0);
  });
});
