// teredo-client in the lab (issue 9 "Tests"): our client behind each of the lab's NATs detects the NAT type
// against our server and against miredo-server, and every qualified client (the symmetric one too) pings host6
// through Miredo's relay; a client reaches a full-cone peer directly (no bubble reaches the peer, where two
// port-restricted clients need them); ours and Miredo's client each put a Teredo address on their TUN
// device behind every NAT (the time it takes is measured by `teredo-lab bench`, not here).

import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TeredoClientLabStatus } from '../../lab/occupants/teredo-client-ours.js';
import { distFile } from '../../lab/paths.js';
import { ADDR, NAT_SITES, useLab } from './lab.js';
import { pingCount, requireClientStatus } from './teredo-client-watch.js';

const lab = useLab();
const MAIN = distFile('agents/teredo-client/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tcl-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXPECTED_NAT: Readonly<Record<string, string>> = {
  'full-cone': 'cone',
  'address-restricted': 'restricted',
  'port-restricted': 'restricted',
  symmetric: 'symmetric',
};

const status = (node: string): Promise<TeredoClientLabStatus> => requireClientStatus(lab, node);

/** Echo replies received out of `count` pings from `node` to `dst`. */
const pings = (node: string, dst: string, count = 3): Promise<number> => pingCount(lab, node, dst, count);

for (const server of ['ours', 'miredo'] as const) {
  describe(`against ${server === 'ours' ? 'our server' : 'miredo-server'}`, () => {
    it('detects each NAT type and reaches host6 through the relay from behind every NAT', async () => {
      await lab.startOccupants([
        { role: 'server', impl: server },
        { role: 'relay', impl: 'miredo' },
        { role: 'client', impl: 'ours' },
      ]);
      for (const site of NAT_SITES) {
        const s = await status(site.client);
        expect({ node: site.client, state: s.state, nat: s.nat }).toEqual({ node: site.client, state: 'qualified', nat: EXPECTED_NAT[site.kind] });
        expect(s.address).toMatch(/^2001:0:c612:a:/);
        expect(s.mappedAddress).toBe(site.outside);
        expect(await pings(site.client, ADDR.host6)).toBeGreaterThanOrEqual(2);
      }
      for (const o of lab.occupants()) await lab.stopOccupant(o.key);
    });
  });
}

describe('a native host reaching a new client first', () => {
  for (const relay of ['ours', 'miredo'] as const) {
    it(`host6's pings through ${relay === 'ours' ? 'our relay' : "Miredo's relay"} reach a client that never sent to it: 5 of 5 (the first held while the relay is tested)`, async () => {
      await lab.startOccupants([
        { role: 'server', impl: 'ours' },
        { role: 'relay', impl: relay },
        { role: 'client', impl: 'ours', node: 'cli-prc' },
      ]);
      const prc = await status('cli-prc');
      // 1 s apart, each waited for 5 s: the first reply comes after the relay's bubble exchange and our test.
      const r = await lab.exec('host6', ['ping', '-6', '-n', '-c', '5', '-i', '1', '-W', '5', prc.address!]);
      expect(/(\d+) received/.exec(r.stdout)?.[1]).toBe('5');
      for (const o of lab.occupants()) await lab.stopOccupant(o.key);
    });
  }
});

describe('Teredo to Teredo', () => {
  /**
   * Runs `action`; returns how many Teredo bubbles (RFC 4380 §2.8: IPv6, payload length 0, next header 59;
   * bare or behind an origin indication, §5.1.1) reached `node` from its NAT meanwhile, counted by nftables in
   * the node (kernel counters: exact, no capture window to miss a packet).
   */
  async function bubblesInto(node: string, action: () => Promise<void>): Promise<number> {
    const udp = `iifname "${lab.iface(node, 'lan')}" meta l4proto udp`;
    const ruleset = `table inet tl_bubbles {
  chain count {
    type filter hook prerouting priority -300; policy accept;
    ${udp} @th,64,4 6 @th,96,16 0 @th,112,8 59 counter
    ${udp} @th,64,16 0 @th,128,4 6 @th,160,16 0 @th,176,8 59 counter
  }
}
`;
    await lab.execOk(node, ['nft', '-f', '-'], { input: ruleset });
    try {
      await action();
      const r = await lab.execOk(node, ['nft', 'list', 'table', 'inet', 'tl_bubbles']);
      return [...r.stdout.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    } finally {
      await lab.execOk(node, ['nft', 'delete', 'table', 'inet', 'tl_bubbles']);
    }
  }

  it('a client behind a port-restricted NAT reaches a full-cone client directly (cone bit: no bubbles needed)', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-prc' },
      { role: 'client', impl: 'ours', node: 'cli-fc' },
    ]);
    const fc = await status('cli-fc');
    let received = 0;
    // §5.2.4 case 4: a packet for a cone address goes straight to its mapping. The queue-and-bubble path (case
    // 5) would deliver the pings too, but puts bubbles on the peer's LAN: the direct bubble and the indirect one
    // relayed by the server; so none may arrive.
    const bubbles = await bubblesInto('cli-fc', async () => {
      received = await pings('cli-prc', fc.address!);
    });
    expect(received).toBeGreaterThanOrEqual(2);
    expect(bubbles).toBe(0);
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  });

  it('two clients behind port-restricted NATs reach each other after the bubble exchange (§5.2.6), both ways', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-prc' },
      { role: 'client', impl: 'ours', node: 'cli-prc2' },
      { role: 'client', impl: 'ours', node: 'cli-arc' },
    ]);
    const prc = await status('cli-prc');
    const prc2 = await status('cli-prc2');
    // The first echoes wait in the peer queue while the bubbles through the server open both NATs; the counter
    // (the same as above, which must stay at 0 for a cone peer) sees them.
    let received = 0;
    const bubbles = await bubblesInto('cli-prc2', async () => {
      received = await pings('cli-prc', prc2.address!, 5);
    });
    expect(received).toBeGreaterThanOrEqual(3);
    expect(bubbles).toBeGreaterThanOrEqual(1);
    expect(await pings('cli-prc2', prc.address!, 5)).toBeGreaterThanOrEqual(3);
    expect(await pings('cli-arc', prc.address!, 5)).toBeGreaterThanOrEqual(3);
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  });

  it('beyond Miredo: a client behind the symmetric NAT reaches a full-cone client, and back (proof through its server)', async () => {
    await lab.startOccupants([
      { role: 'server', impl: 'ours' },
      { role: 'client', impl: 'ours', node: 'cli-sym' },
      { role: 'client', impl: 'ours', node: 'cli-fc' },
    ]);
    const sym = await status('cli-sym');
    const fc = await status('cli-fc');
    // The first echo is spent on the proof round trip; the rest get through.
    expect(await pings('cli-sym', fc.address!, 5)).toBeGreaterThanOrEqual(3);
    expect(await pings('cli-fc', sym.address!, 5)).toBeGreaterThanOrEqual(3);
    for (const o of lab.occupants()) await lab.stopOccupant(o.key);
  });
});

/** The Teredo address (RFC 4380 §4) of a client of our server (198.18.0.10) whose NAT maps it to `outside`. */
function teredoAddressOf(outside: string): RegExp {
  // Server 198.18.0.10 = c612:000a; flags, obfuscated port; the mapped IPv4 address XOR 0xffffffff.
  const [a, b, c, d] = outside.split('.').map((x) => Number(x) ^ 0xff);
  const hex = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return new RegExp(`^2001:0:c612:a:[0-9a-f]{1,4}:[0-9a-f]{1,4}:${hex(a!, b!)}:${hex(c!, d!)}$`);
}

/**
 * Runs `argv` in `node` until a global address is on `ifname` (a shell loop inside the node polls `ip`, every
 * 50 ms for at most 30 s), then stops it; returns the address seen, or '' when none came.
 */
async function addressAfterStart(node: string, ifname: string, argv: readonly string[]): Promise<string> {
  const script = `"$@" >/dev/null 2>&1 & pid=$!
for i in $(seq 1 600); do a=$(ip -6 -o addr show dev ${ifname} scope global 2>/dev/null | grep -o 'inet6 [0-9a-f:]*'); [ -n "$a" ] && break; sleep 0.05; done
echo "\${a#inet6 }"; kill $pid; wait $pid 2>/dev/null`;
  const r = await lab.exec(node, ['sh', '-c', script, 'sh', ...argv]);
  return r.stdout.trim();
}

describe('ours and Miredo\'s client behind every NAT, each started alone', () => {
  it('puts its Teredo address, embedding the NAT\'s public address, on the TUN device', async () => {
    await lab.startOccupants([{ role: 'server', impl: 'ours' }]);
    const tun = lab.state().plan.tunName;
    for (const site of NAT_SITES) {
      const ours = await addressAfterStart(site.client, tun, [process.execPath, MAIN, '--server', ADDR.server, '--interface', tun, '--instance', 'alone']);
      expect(ours, `ours at ${site.client}`).toMatch(teredoAddressOf(site.outside));
      const conf = join(dir, 'miredo.conf');
      writeFileSync(conf, `RelayType client\nServerAddress ${ADDR.server}\nInterfaceName ${tun}\n`);
      const miredo = await addressAfterStart(site.client, tun, ['miredo', '-f', '-c', conf, '-p', join(dir, 'miredo.pid')]);
      expect(miredo, `miredo at ${site.client}`).toMatch(teredoAddressOf(site.outside));
    }
  });
});
