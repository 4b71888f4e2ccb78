// Port prediction (client-predict.ts, RFC 6081's symmetric NAT extensions with the Random Port trailer) on the
// in-memory network: a client behind a sequential or port-preserving symmetric NAT (the zoo's nat-seq, nat-pps)
// and a client behind a port-restricted NAT reach each other, both ways; without the trailer's help (a plain
// symmetric NAT, random ports) they do not, as RFC 4380 says.

import { describe, expect, it } from 'vitest';
import { decodeTrailers } from '../../src/wire/teredo-trailers.js';
import type { NatOptions } from '../fakes/teredo-net-nat.js';
import { echoReplies, PRIMARY, qualifiedAnswering, ROGUE, TeredoWorld } from './teredo-client-fixtures.js';


/** A client behind a symmetric NAT with `ports`, and one behind a port-restricted NAT; both qualified, answering pings. */
function symmetricAndRestricted(nat: NatOptions) {
  const w = new TeredoWorld();
  // The local ports, as the agent gives them (the in-memory client binds 40000 and 40001): port preservation
  // is judged from them.
  const sym = w.client('symmetric', { localPort: 40000, probeLocalPort: 40001 }, { nat });
  const prc = w.client('port-restricted', {}, { seed: 7 });
  qualifiedAnswering(w, sym, prc);
  return { w, sym, prc };
}

describe('port prediction behind a symmetric NAT (RFC 6081 Random Port trailer)', () => {
  for (const ports of ['sequential', 'port-preserving'] as const) {
    it(`${ports} symmetric NAT <-> port-restricted NAT: both ways, the first exchange spent on the bubbles and the proof`, () => {
      const { w, sym, prc } = symmetricAndRestricted({ ports });
      const mark = w.log.length;
      // The first two are spent opening both NATs (bubbles, then the proof round trip); the rest get through.
      expect(echoReplies(w, sym, prc, 5)).toBeGreaterThanOrEqual(3);
      expect(echoReplies(w, prc, sym, 5)).toBe(5);
      // The indirect bubble through the server carried a Random Port trailer (type 5, length 2).
      const indirect = w.log.slice(mark).find((r) => r.event === 'sent' && r.dst.addr === PRIMARY && r.bytes.length === 44);
      expect(indirect && decodeTrailers(indirect.bytes.subarray(40))).toEqual([{ kind: 'random-port', port: expect.any(Number) }]);
      expect(sym.engine.snapshot(w.clock.now()).counters.portsPredicted).toBe(1);
    });

    it(`${ports}: the port-restricted side starting first reaches the symmetric one too`, () => {
      const { w, sym, prc } = symmetricAndRestricted({ ports });
      expect(echoReplies(w, prc, sym, 5)).toBeGreaterThanOrEqual(3);
      expect(echoReplies(w, sym, prc, 5)).toBe(5);
    });
  }

  it('sequential: another flow through the NAT between qualification and the first bubble takes the predicted port; the window of ports bubbled still meets ours', () => {
    const { w, sym, prc } = symmetricAndRestricted({ ports: 'sequential' });
    // Another host behind the symmetric NAT opens a flow (a DNS query, say): it takes the port predicted for us.
    const nat = w.natOf(sym);
    const other = w.inet.natHost(nat, sym.main.local.addr + 1).bind(5353);
    other.send(new Uint8Array(1), 0, 1, ROGUE, 53);
    w.inet.runUntilIdle();
    expect(echoReplies(w, sym, prc, 5)).toBeGreaterThanOrEqual(3);
    expect(echoReplies(w, prc, sym, 5)).toBe(5);
  });

  it('a symmetric NAT with random ports: no prediction, and no path to a port-restricted peer (RFC 4380)', () => {
    const { w, sym, prc } = symmetricAndRestricted({});
    expect(echoReplies(w, sym, prc, 3)).toBe(0);
    expect(sym.engine.snapshot(w.clock.now()).counters.portsPredicted).toBe(0);
  });
});
