// Monitor mode (issue 19 point 4), as root in two namespaces of our own:
//
//   hr2-mr: ra-sender --monitor on v0 ──veth── hr2-mh: radvd on v1 (a second router with conflicting values),
//                                                      ra-sender --monitor-only on v1
//
// ours keeps radvd's RAs (prefixes, lifetimes, options) in `status`, counts the §6.2.7 differences, never lists
// itself even when the router itself sends an RS (rdisc6 on hr2-mr: our unicast answer comes back to us), and
// reports radvd's default route running out once radvd is killed without a final RA. The monitor-only
// instance on hr2-mh lists ours and sends nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { distFile, missingDist } from '../../lab/paths.js';
import type { InterfaceStatus } from '../../agents/ra-sender/status.js';
import { agentLink, logged, spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { deleteNetns, ip, waitUntil } from './io-netns.js';

const ROUTER = 'hr2-mr';
const OTHER = 'hr2-mh';
const MAIN = distFile('agents/ra-sender/main.js');
const dir = mkdtempSync('/tmp/hr2-ra-monitor-');
chmodSync(dir, 0o755);
const runs: AgentRun[] = [];

beforeAll(async () => {
  expect(missingDist('agents/ra-sender/main.js')).toBeUndefined();
  await agentLink(ROUTER, OTHER);
  execFileSync('ip', ['netns', 'exec', ROUTER, 'sysctl', '-qw', 'net.ipv6.conf.v0.forwarding=1']);
  execFileSync('ip', ['netns', 'exec', OTHER, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
  await waitUntil(() => linkLocal(ROUTER, 'v0') !== undefined && linkLocal(OTHER, 'v1') !== undefined, 10_000, 'link-local addresses (DAD)');
});

afterAll(async () => {
  for (const r of runs) await stopAgent(r);
  deleteNetns(ROUTER);
  deleteNetns(OTHER);
  rmSync(dir, { recursive: true, force: true });
});

function linkLocal(ns: string, dev: string): string | undefined {
  const out = ip('-n', ns, '-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'link');
  return /tentative/.test(out) ? undefined : /inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1];
}

function status(ns: string): InterfaceStatus {
  return (JSON.parse(execFileSync('ip', ['netns', 'exec', ns, process.execPath, MAIN, 'status', '--json'], { encoding: 'utf8' })) as { interfaces: InterfaceStatus[] }).interfaces[0]!;
}

const RADVD_CONF = `interface v1 {
  AdvSendAdvert on;
  MinRtrAdvInterval 3;
  MaxRtrAdvInterval 4;
  AdvDefaultLifetime 8;
  AdvCurHopLimit 32;
  prefix 2001:db8:66::/64 { AdvValidLifetime 600; AdvPreferredLifetime 300; };
  prefix 2001:db8:bb::/64 { };
  RDNSS 2001:db8:bb::53 { };
};
`;

describe('ra-sender monitor mode', () => {
  it("keeps the other router's RAs, never itself, and reports its default route running out", async () => {
    const ours = spawnAgent(['ip', 'netns', 'exec', ROUTER, process.execPath, MAIN, '--interface', 'v0', '--prefix', '2001:db8:66::/64', '--min-interval', '3', '--max-interval', '4', '--monitor']);
    runs.push(ours);
    await logged(ours, 'advertising');
    const conf = join(dir, 'radvd.conf');
    writeFileSync(conf, RADVD_CONF, { mode: 0o644 });
    const radvd = spawnAgent(['ip', 'netns', 'exec', OTHER, 'radvd', '-n', '-m', 'stderr', '-C', conf, '-p', join(dir, 'radvd.pid')]);
    runs.push(radvd);
    const other = linkLocal(OTHER, 'v1')!;
    const self = linkLocal(ROUTER, 'v0')!;

    await waitUntil(() => (status(ROUTER).monitor?.routers.find((r) => r.router === other)?.prefixes.length ?? 0) >= 2, 30_000, "radvd's RAs in the monitor table");
    // The router itself solicits: the answer it sends itself must not show up as another router.
    execFileSync('ip', ['netns', 'exec', ROUTER, 'rdisc6', '-1', '-r', '2', '-w', '1000', 'v0'], { stdio: 'ignore' });
    const s = status(ROUTER);
    expect(s.monitor!.routers.map((r) => r.router)).toEqual([other]);
    expect(s.monitor!.routers.some((r) => r.router === self)).toBe(false);
    const r = s.monitor!.routers[0]!;
    expect(r).toMatchObject({ curHopLimit: 32, routerLifetime: 8, managed: false, otherConfig: false });
    expect(r.inconsistencies).toBeGreaterThan(0);
    expect(r.prefixes.map((p) => [p.prefix, p.onLink, p.autonomous])).toEqual([
      ['2001:db8:66::/64', true, true],
      ['2001:db8:bb::/64', true, true],
    ]);
    expect(r.lastRa).toMatchObject({ options: expect.arrayContaining([{ option: 'rdnss', servers: ['2001:db8:bb::53'], lifetime: expect.any(Number) }]) });
    expect(s.inconsistencies).toMatchObject({ 'cur-hop-limit': expect.any(Number), 'prefix-valid-lifetime': expect.any(Number) });

    // The monitor-only instance beside radvd lists ours (and not radvd, its own host's RAs), and sends nothing.
    const watcher = spawnAgent(['ip', 'netns', 'exec', OTHER, process.execPath, MAIN, '--interface', 'v1', '--monitor-only']);
    runs.push(watcher);
    await logged(watcher, 'monitoring');
    await waitUntil(() => status(OTHER).monitor?.routers.some((x) => x.router === self) === true, 30_000, 'ours in the monitor-only table');
    const w = status(OTHER);
    expect(w.state).toBe('monitoring');
    expect(w.counters).toMatchObject({ advertisements: 0, messagesSent: 0 });
    expect(w.monitor!.routers.find((x) => x.router === self)!.prefixes.map((p) => p.prefix)).toEqual(['2001:db8:66::/64']);

    // radvd dies without a final RA: its 8 s router lifetime runs out.
    radvd.child.kill('SIGKILL');
    await radvd.exited;
    await waitUntil(() => status(ROUTER).monitor!.defaultRouteExpirations === 1, 30_000, "radvd's default route expiring");
    expect(status(ROUTER).monitor!.routers.find((x) => x.router === other)!.defaultRouteRemainingSec).toBeNull();
    expect(await logged(ours, "another router's default route expired: no RA from it within its router lifetime")).toMatchObject({ router: other, routerLifetime: 8 });
  }, 120_000);
});
