// teredo-client in the NAT zoo (`teredo-lab up --zoo`, lab/nat-zoo.ts), in a zoo lab of its own: the cases of
// issue 16 our client makes work beyond RFC 4380. Real pings both ways, counted by ping itself.
//
// nat-nhp: two clients behind one port-restricted NAT that does not hairpin. Each one's public mapping is of no
// use to the other; local discovery (RFC 4380 §5.2.8: multicast bubbles to 224.0.0.253:3544 on their LAN) lets
// them talk over the LAN. Before it, 0 of 5 pings each way (docs/lab.md, the matrix).
// nat-seq / nat-pps with nat-prc: a client behind a sequential or port-preserving symmetric NAT and one behind a
// port-restricted NAT; port prediction with the RFC 6081 Random Port trailer (client-predict.ts; nat-seq), or
// a pool socket per peer whose port the NAT keeps (RFC 6081 §5.4, client-pps.ts; nat-pps), opens both NATs
// toward the port the symmetric NAT really uses. Before them, 0 of 5 each way.
// nat-nhp with local discovery off: the RFC 6081 hairpinning extension (client-hairpin.ts) instead.
// nat-hp with Miredo's client next to ours: an RFC 4380 peer takes our trailer-carrying bubbles as plain ones.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '../../lab/lab.js';
import { pingCount, requireClientStatus } from './teredo-client-watch.js';

let zoo: Lab;

beforeAll(async () => {
  zoo = await Lab.up({ zoo: true, ownerPid: process.pid, install: false });
}, 60_000);

afterAll(async () => {
  await zoo?.down();
});

/** Echo replies received out of `count` pings from `node` to `dst` (0.5 s apart, each waited for 3 s). */
const pings = (node: string, dst: string, count = 5): Promise<number> => pingCount(zoo, node, dst, count, 0.5, 3);

/** One ping a second until one is answered (10 tries): true when one was. */
async function firstAnswer(node: string, dst: string): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    if ((await pings(node, dst, 1)) === 1) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

describe('two clients behind one NAT without hairpinning (nat-nhp)', () => {
  it('find each other by local discovery and ping each other, both ways', async () => {
    await zoo.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-nhp' },
      { role: 'client', impl: 'ours', node: 'cli-nhp2' },
    ]);
    const a = await requireClientStatus(zoo, 'cli-nhp');
    const b = await requireClientStatus(zoo, 'cli-nhp2');
    expect([a.state, b.state]).toEqual(['qualified', 'qualified']);
    // Behind the same NAT: the same public address in both Teredo addresses.
    expect(a.mappedAddress).toBe(b.mappedAddress);
    // The first Echo Request may leave before the other has heard our discovery bubble (answers wait out a
    // 1 s interval) or while the fresh address is still tentative: wait for a first answer, 10 tries at most.
    expect(await firstAnswer('cli-nhp', b.address!)).toBe(true);
    expect(await pings('cli-nhp', b.address!)).toBeGreaterThanOrEqual(4);
    expect(await pings('cli-nhp2', a.address!)).toBeGreaterThanOrEqual(4);
    for (const o of zoo.occupants()) await zoo.stopOccupant(o.key);
  });

  it('local discovery off: the hairpinning extension (RFC 6081 Alternate Address trailer) reaches the other, both ways', async () => {
    const off = ['--local-discovery', 'off'];
    await zoo.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-nhp', args: off },
      { role: 'client', impl: 'ours', node: 'cli-nhp2', args: off },
    ]);
    try {
      const a = await requireClientStatus(zoo, 'cli-nhp');
      const b = await requireClientStatus(zoo, 'cli-nhp2');
      expect([a.state, b.state, a.mappedAddress]).toEqual(['qualified', 'qualified', b.mappedAddress]);
      const first = await firstAnswer('cli-nhp', b.address!);
      const after = [await requireClientStatus(zoo, 'cli-nhp'), await requireClientStatus(zoo, 'cli-nhp2')].map((s) => ({ counters: s.counters, drops: s.drops }));
      expect(first, JSON.stringify(after)).toBe(true);
      expect(await pings('cli-nhp', b.address!)).toBeGreaterThanOrEqual(4);
      expect(await pings('cli-nhp2', a.address!)).toBeGreaterThanOrEqual(4);
      // Not by local discovery: nothing was found that way.
      const s = await requireClientStatus(zoo, 'cli-nhp2');
      expect([s.counters?.discoverySent, (s.counters?.hairpinBubbles ?? 0) > 0]).toEqual([0, true]);
    } finally {
      for (const o of zoo.occupants()) await zoo.stopOccupant(o.key);
    }
  });
});

describe('next to Miredo behind one NAT that hairpins (nat-hp)', () => {
  it('Miredo takes our bubbles carrying the Alternate Address trailer as plain bubbles: pings both ways', async () => {
    const records = await zoo.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-hp', args: ['--local-discovery', 'off'] },
      { role: 'client', impl: 'miredo', node: 'cli-hp2' },
    ]).catch(async (e: unknown) => {
      for (const o of zoo.occupants()) await zoo.stopOccupant(o.key);
      throw e;
    });
    // Teredo bubbles with our trailer (RFC 4380 §2.8 bubble, then RFC 6081 §4.3 type 3) arriving at Miredo's
    // node, direct (UDP payload 40 + 10) or with an origin indication (8 + 40 + 10), counted by nftables there.
    const lan = zoo.iface('cli-hp2', 'lan-hp');
    const ruleset = `table inet tl_trailers {
  chain count {
    type filter hook prerouting priority -300; policy accept;
    iifname "${lan}" udp length 58 @th,64,4 6 @th,96,16 0 @th,112,8 59 @th,384,8 3 counter
    iifname "${lan}" udp length 66 @th,64,16 0 @th,128,4 6 @th,160,16 0 @th,176,8 59 @th,448,8 3 counter
  }
}
`;
    try {
      await zoo.execOk('cli-hp2', ['nft', '-f', '-'], { input: ruleset });
      const ours = await requireClientStatus(zoo, 'cli-hp');
      const miredo = (await zoo.occupantStatus(records.find((r) => r.node === 'cli-hp2')!)).teredoAddress;
      expect(miredo).toBeDefined();
      expect(await firstAnswer('cli-hp', miredo!)).toBe(true);
      expect(await pings('cli-hp', miredo!)).toBeGreaterThanOrEqual(4);
      expect(await pings('cli-hp2', ours.address!)).toBeGreaterThanOrEqual(4);
      const r = await zoo.execOk('cli-hp2', ['nft', 'list', 'table', 'inet', 'tl_trailers']);
      expect([...r.stdout.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0)).toBeGreaterThanOrEqual(1);
    } finally {
      await zoo.exec('cli-hp2', ['nft', 'delete', 'table', 'inet', 'tl_trailers']);
      for (const o of zoo.occupants()) await zoo.stopOccupant(o.key);
    }
  });
});

describe('a client behind a predictable symmetric NAT and one behind a port-restricted NAT', () => {
  for (const [sym, how, counter] of [['cli-seq', 'port prediction', 'portsPredicted'], ['cli-pps', 'RFC 6081 §5.4 pool socket', 'randomPortsAssigned']] as const) {
    it(`${sym} and cli-prc ping each other, both ways (${how})`, async () => {
      await zoo.startOccupants([
        { role: 'server', impl: 'ours' },
        { role: 'client', impl: 'ours', node: sym },
        { role: 'client', impl: 'ours', node: 'cli-prc' },
      ]);
      try {
        const a = await requireClientStatus(zoo, sym);
        const b = await requireClientStatus(zoo, 'cli-prc');
        expect([a.nat, b.nat]).toEqual(['symmetric', 'restricted']);
        // The first exchange opens both NATs and proves the symmetric side's real mapping.
        const first = await firstAnswer(sym, b.address!);
        const after = [await requireClientStatus(zoo, sym), await requireClientStatus(zoo, 'cli-prc')].map((s) => ({ mapping: s.mapping, counters: s.counters, drops: s.drops }));
        expect(first, JSON.stringify(after)).toBe(true);
        expect(await pings(sym, b.address!)).toBeGreaterThanOrEqual(4);
        expect(await pings('cli-prc', a.address!)).toBeGreaterThanOrEqual(4);
        expect((await requireClientStatus(zoo, sym)).counters?.[counter]).toBeGreaterThanOrEqual(1);
      } finally {
        for (const o of zoo.occupants()) await zoo.stopOccupant(o.key);
      }
    });
  }
});
