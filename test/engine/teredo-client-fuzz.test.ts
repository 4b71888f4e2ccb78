// Bad input never throws out of the client engine (RFC 4380 §5.2.3: invalid packets are discarded): random and
// mutated datagrams on both sockets and random TUN packets, in every state, are dropped and counted, never thrown.
// The client sits behind a full-cone NAT (which lets every source in) with the real server; the datagrams are put
// on the network with forged sources (VirtualInternet.spoof), the TUN packets come from the host's stack.

import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/engine/types.js';
import { encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { CLIENT_PORT, NAT_PUBLIC, PRIMARY, PROBE_PORT, SECONDARY, TeredoWorld, raPayload } from './teredo-client-fixtures.js';

const SOURCES = [
  [PRIMARY, 3544],
  [SECONDARY, 3544],
  [NAT_PUBLIC + 2, 40000],
] as const;

function mutate(bytes: Uint8Array, r: ReturnType<typeof seededRandom>): Uint8Array {
  const out = bytes.slice(0, r.int(bytes.length + 1));
  for (let k = r.int(4); k >= 0; k--) if (out.length > 0) out[r.int(out.length)] = r.int(256);
  return out;
}

describe('robustness', () => {
  for (const state of ['probing', 'qualified'] as const) {
    it(`${state}: 20 000 random and mutated datagrams and TUN packets are dropped or handled, never thrown`, () => {
      const w = new TeredoWorld();
      if (state === 'probing') w.server.stop(); // it keeps probing throughout
      const c = w.client('full-cone');
      if (state === 'qualified') w.runUntilQualified(c);
      expect(c.engine.state).toBe(state === 'qualified' ? 'qualified' : 'probe-primary');
      const r = seededRandom(42);
      const rs = w.sent(c).find((s) => s.local === CLIENT_PORT)!.data;
      const ra = raPayload(rs, { addr: NAT_PUBLIC, port: 50000 });
      const me = c.engine.address ?? new Uint8Array(16);
      const bubble = new Uint8Array(40);
      bubble[0] = 0x60;
      bubble[6] = 59;
      bubble.set(me, 24);
      const seeds = [ra, encodeTeredoPayload({ origin: { addr: NAT_PUBLIC + 3, port: 7 }, ipv6: bubble }), bubble];
      for (let i = 0; i < 20_000; i++) {
        const [addr, port] = SOURCES[r.int(SOURCES.length)]!;
        const bytes = r.int(3) === 0 ? r.bytes(r.int(200)) : mutate(seeds[r.int(seeds.length)]!, r);
        const which = r.int(3);
        if (which === 2) c.stack.send(bytes);
        else w.inet.spoof(bytes, { addr, port }, { addr: NAT_PUBLIC, port: which === 0 ? CLIENT_PORT : PROBE_PORT });
        if (i % 1000 === 999) w.runUntil(w.clock.now() + 500);
      }
      w.inet.runUntilIdle();
      expect(c.driver.stats().errors).toBe(0);
      expect(c.drops.length).toBeGreaterThan(10_000);
      expect(c.drops.filter((d) => d.startsWith('invalid-'))).toEqual([]);
      expect(w.server.driver.stats().errors).toBe(0);
    });
  }
});
