// A link without link-layer addresses (issue 19 point 6): a TUN pair, as root in two namespaces of our own,
// joined by this test, which copies every packet from one device to the other (a point-to-point link):
//
//   hr2-ta: ra-sender on hr2t0 (fe80::1)  ⇄ [ this test: relay ] ⇄  hr2-tb: hr2t1 (fe80::2), a plain Linux host
//
// ra-sender runs with `--unicast-only --clients fe80::2`: every RA must be a unicast to fe80::2 (never to
// ff02::1), hop limit 255, with no Source Link-Layer Address option (a TUN has no link-layer address), and
// the host's kernel must autoconfigure from it (SLAAC on a TUN). An RS from a host not listed is not answered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { distFile, missingDist } from '../../lab/paths.js';
import { parseIpv6 } from '../../src/wire/ipv6-address.js';
import type { InterfaceStatus } from '../../agents/ra-sender/status.js';
import { logged, spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { ip, waitUntil } from './io-netns.js';
import { routerSolicitation, tunPair, type TunPair } from './tun-pair.js';

const NS_A = 'hr2-ta';
const NS_B = 'hr2-tb';
const MAIN = distFile('agents/ra-sender/main.js');
const runs: AgentRun[] = [];
let pair: TunPair;

beforeAll(() => {
  expect(missingDist('agents/ra-sender/main.js')).toBeUndefined();
  pair = tunPair(NS_A, 'hr2t0', NS_B, 'hr2t1');
});

afterAll(async () => {
  for (const r of runs) await stopAgent(r);
  pair?.close();
});

const status = (): InterfaceStatus => (JSON.parse(execFileSync('ip', ['netns', 'exec', NS_A, process.execPath, MAIN, 'status', '--json'], { encoding: 'utf8' })) as { interfaces: InterfaceStatus[] }).interfaces[0]!;
const hostAddresses = (): string[] => ip('-n', NS_B, '-6', '-o', 'addr', 'show', 'dev', 'hr2t1', 'scope', 'global').split('\n').filter(Boolean);

describe('ra-sender on a TUN pair (no link-layer address, unicast only)', () => {
  it('sends unicast RAs without SLLAO to the listed client only, and the host autoconfigures from them', async () => {
    const run = spawnAgent(['ip', 'netns', 'exec', NS_A, process.execPath, MAIN, '--interface', 'hr2t0', '--prefix', '2001:db8:7::/64', '--unicast-only', '--clients', 'fe80::2', '--min-interval', '3', '--max-interval', '4']);
    runs.push(run);
    await logged(run, 'advertising');
    await waitUntil(() => hostAddresses().some((l) => l.includes('inet6 2001:db8:7:')), 30_000, 'a SLAAC address on the host behind the TUN');
    // An RS from a host not in the clients list gets nothing.
    pair.a.write(routerSolicitation(parseIpv6('fe80::3'))); // into the router's kernel, as if from the link
    await waitUntil(() => (status().drops['rs-source-not-in-clients'] ?? 0) >= 1, 10_000, 'the unlisted RS dropped');
    expect(pair.ras.length).toBeGreaterThan(0);
    for (const seen of pair.ras) {
      expect(seen.dst).toBe('fe80::2');
      expect(seen.hopLimit).toBe(255);
      expect(seen.src).toMatch(/^fe80:/);
      expect(seen.ra.options.map((o) => o.kind)).toEqual(['prefix-info']);
    }
    const s = status();
    expect(s.state).toBe('advertising');
    expect(s.lastRa).toMatchObject({ options: [{ option: 'prefix', prefix: '2001:db8:7::/64' }] });
    expect(await stopAgent(run)).toBe(0);
  }, 90_000);
});
