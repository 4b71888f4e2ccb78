// A hitless reload (issue 19 point 7), seen on the link: ra-sender on one side of a TUN pair (tun-pair.ts: the
// test relays, and decodes, every RA), a plain Linux host on the other. SIGHUP with a config that drops one
// prefix, one route, one DNS server and one search domain, and adds a DNS server. Every RA around the reload
// must carry what stays with its configured lifetimes (never 0, the router lifetime never 0); what left must only
// go out withdrawn (lifetime 0; a prefix with preferred lifetime 0 and its valid lifetime counting down); the
// host's address from the prefix that stays must stay preferred, the other one become deprecated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distFile, missingDist } from '../../lab/paths.js';
import { formatIpv6 } from '../../src/wire/ipv6-address.js';
import type { RouterAdvert } from '../../src/wire/ndisc.js';
import { logged, spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { ip, waitUntil } from './io-netns.js';
import { tunPair, type TunPair } from './tun-pair.js';

const NS_A = 'hr2-la';
const NS_B = 'hr2-lb';
const MAIN = distFile('agents/ra-sender/main.js');
const dir = mkdtempSync('/tmp/hr2-ra-reload-');
const runs: AgentRun[] = [];
let pair: TunPair;

beforeAll(() => {
  expect(missingDist('agents/ra-sender/main.js')).toBeUndefined();
  pair = tunPair(NS_A, 'hr2l0', NS_B, 'hr2l1');
});

afterAll(async () => {
  for (const r of runs) await stopAgent(r);
  pair?.close();
  rmSync(dir, { recursive: true, force: true });
});

const BASE = { interfaces: ['hr2l0'], minInterval: 3, maxInterval: 4, routerLifetime: 60, routeLifetime: 30, rdnssLifetime: 30, dnsslLifetime: 30, validLifetime: 300, preferredLifetime: 200 };
const BEFORE = { ...BASE, prefixes: ['2001:db8:1::/64', '2001:db8:2::/64'], routes: ['2001::/32', '64:ff9b::/96'], rdnss: ['2001:db8:1::53', '2001:db8:2::53'], dnssl: ['a.example', 'b.example'] };
const AFTER = { ...BASE, prefixes: ['2001:db8:1::/64'], routes: ['2001::/32'], rdnss: ['2001:db8:1::53', '2001:db8:3::53'], dnssl: ['a.example'] };

/** Every item of an RA with its lifetime(s): "prefix P pref/valid", "route P life", "rdnss A life", "dnssl D life". */
function items(ra: RouterAdvert): string[] {
  const out: string[] = [];
  for (const o of ra.options) {
    if (o.kind === 'prefix-info') out.push(`prefix ${formatIpv6(o.prefix)} ${o.preferredLifetimeSec}/${o.validLifetimeSec}`);
    else if (o.kind === 'route-info') out.push(`route ${formatIpv6(Uint8Array.from([...o.prefix, ...new Uint8Array(16 - o.prefix.length)]))}/${o.prefixLength} ${o.routeLifetimeSec}`);
    else if (o.kind === 'rdnss') for (const s of o.servers) out.push(`rdnss ${formatIpv6(s)} ${o.lifetimeSec}`);
    else if (o.kind === 'dnssl') for (const d of o.domains) out.push(`dnssl ${d} ${o.lifetimeSec}`);
  }
  return out;
}

const hostAddress = (prefix: string): string | undefined => ip('-n', NS_B, '-6', '-o', 'addr', 'show', 'dev', 'hr2l1', 'scope', 'global').split('\n').find((l) => l.includes(`inet6 ${prefix}`) && !l.includes('tentative'));

describe('ra-sender reload is hitless (SIGHUP)', () => {
  it('never sends lifetime 0 for what stays configured; only what left is withdrawn or deprecated', async () => {
    const file = join(dir, 'ra-sender.json');
    writeFileSync(file, JSON.stringify(BEFORE));
    const run = spawnAgent(['ip', 'netns', 'exec', NS_A, process.execPath, MAIN, '--config', file]);
    runs.push(run);
    await logged(run, 'advertising');
    await waitUntil(() => hostAddress('2001:db8:1:') !== undefined && hostAddress('2001:db8:2:') !== undefined, 30_000, 'both SLAAC addresses on the host');
    const before = pair.ras.length;
    writeFileSync(file, JSON.stringify(AFTER));
    run.child.kill('SIGHUP');
    await logged(run, 'config reloaded');
    await waitUntil(() => pair.ras.length >= before + 3 && /deprecated/.test(hostAddress('2001:db8:2:') ?? ''), 30_000, '3 RAs after the reload, and the dropped prefix deprecated on the host');

    const all = pair.ras.map((s) => s.ra);
    expect(all.every((ra) => ra.routerLifetimeSec === 60)).toBe(true);
    const stays = ['prefix 2001:db8:1:: 200/300', 'route 2001::/32 30', 'rdnss 2001:db8:1::53 30', 'dnssl a.example 30'];
    for (const ra of all) expect(items(ra)).toEqual(expect.arrayContaining(stays));
    for (const ra of all.slice(0, before)) expect(items(ra).sort()).toEqual([...stays, 'prefix 2001:db8:2:: 200/300', 'route 64:ff9b::/96 30', 'rdnss 2001:db8:2::53 30', 'dnssl b.example 30'].sort());
    // After the reload (the RA in flight at the SIGHUP may still be the old one): what left goes out withdrawn.
    const afterRas = all.slice(before).filter((ra) => !items(ra).includes('route 64:ff9b::/96 30'));
    expect(afterRas.length).toBeGreaterThanOrEqual(2);
    for (const ra of afterRas) {
      const got = items(ra);
      expect(got.filter((i) => !stays.includes(i)).map((i) => i.replace(/ 0\/\d+$/, ' 0/valid')).sort()).toEqual(['dnssl b.example 0', 'prefix 2001:db8:2:: 0/valid', 'rdnss 2001:db8:2::53 0', 'rdnss 2001:db8:3::53 30', 'route 64:ff9b::/96 0']);
    }
    // The host: the address of the prefix that stays is still preferred.
    expect(hostAddress('2001:db8:1:')).not.toMatch(/deprecated/);
    expect(await stopAgent(run)).toBe(0);
  }, 90_000);
});
