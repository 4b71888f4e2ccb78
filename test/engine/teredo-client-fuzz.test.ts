// Bad input never throws out of the client engine (RFC 4380 §5.2.3: invalid packets are discarded): random and
// mutated datagrams on both sockets and random TUN packets, in every state, are dropped and counted, never thrown.

import { describe, expect, it } from 'vitest';
import { CLIENT_DROP_REASONS } from '../../src/engine/teredo/client/client-types.js';
import { seededRandom } from '../../src/engine/types.js';
import { encodeTeredoPayload } from '../../src/wire/teredo-packet.js';
import { NAT_PUBLIC, PRIMARY, SECONDARY, SimNet, raPayload } from './teredo-client-fixtures.js';

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
      const net = new SimNet('port-restricted');
      net.start();
      if (state === 'qualified') net.runUntilQualified();
      const r = seededRandom(42);
      const rs = net.sent.find((s) => s.local === 40000)!.data;
      const ra = raPayload(rs, { addr: NAT_PUBLIC, port: 50000 });
      const me = net.client.address ?? new Uint8Array(16);
      const bubble = new Uint8Array(40);
      bubble[0] = 0x60;
      bubble[6] = 59;
      bubble.set(me, 24);
      const seeds = [ra, encodeTeredoPayload({ origin: { addr: NAT_PUBLIC + 3, port: 7 }, ipv6: bubble }), bubble];
      for (let i = 0; i < 20_000; i++) {
        const [addr, port] = SOURCES[r.int(SOURCES.length)]!;
        const bytes = r.int(3) === 0 ? r.bytes(r.int(200)) : mutate(seeds[r.int(seeds.length)]!, r);
        const which = r.int(3);
        if (which === 0) net.inject(bytes, addr, port);
        else if (which === 1) net.injectProbe(bytes, addr, port);
        else net.client.tunPacket(bytes, 0, bytes.length, net.now, net.sink);
        if (i % 1000 === 0) net.runUntil(net.now + 500);
      }
      expect(net.drops.length).toBeGreaterThan(10_000);
      expect(net.drops.every((d) => CLIENT_DROP_REASONS[d] !== undefined)).toBe(true);
    });
  }
});
