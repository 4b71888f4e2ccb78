// Renumbering across a restart (issue 19 point 2, RFC 9096), as root in two namespaces of our own:
//
//   hr2-rr: ra-sender on v0 ──veth── hr2-rh: v1, a plain Linux host (accept_ra, SLAAC by the kernel)
//
// ra-sender advertises 2001:db8:a1::/64 with short lifetimes (valid 45 s, preferred 40 s) and a state directory;
// it is stopped, and started again advertising 2001:db8:a2::/64 only. The host must then hold the a2 address
// preferred and the a1 address deprecated while most of its valid lifetime is left (only the state file can say
// a1 was ours: without it a1 would stay preferred until its own preferred lifetime ran out, 5 s before its
// removal), and later lose the a1 address altogether. The kernel's own lifetimes are read, not the test's clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { distFile, missingDist } from '../../lab/paths.js';
import { agentLink, logged, spawnAgent, stopAgent, type AgentRun } from './agent-process.js';
import { deleteNetns, ip, waitUntil } from './io-netns.js';

const ROUTER = 'hr2-rr';
const HOST = 'hr2-rh';
const MAIN = distFile('agents/ra-sender/main.js');
const stateDir = mkdtempSync('/tmp/hr2-ra-state-');
chmodSync(stateDir, 0o700);
const runs: AgentRun[] = [];

beforeAll(async () => {
  expect(missingDist('agents/ra-sender/main.js')).toBeUndefined();
  await agentLink(ROUTER, HOST);
  execFileSync('ip', ['netns', 'exec', HOST, 'sysctl', '-qw', 'net.ipv6.conf.v1.accept_ra=1', 'net.ipv6.conf.v1.autoconf=1', 'net.ipv6.conf.v1.use_tempaddr=0']);
  execFileSync('ip', ['netns', 'exec', ROUTER, 'sysctl', '-qw', 'net.ipv6.conf.v0.forwarding=1']);
});

afterAll(async () => {
  for (const r of runs) await stopAgent(r);
  deleteNetns(ROUTER);
  deleteNetns(HOST);
  rmSync(stateDir, { recursive: true, force: true });
});

function start(prefix: string): AgentRun {
  const run = spawnAgent(['ip', 'netns', 'exec', ROUTER, process.execPath, MAIN, '--interface', 'v0', '--prefix', prefix, '--valid-lifetime', '45', '--preferred-lifetime', '40', '--router-lifetime', '0', '--min-interval', '3', '--max-interval', '4', '--final-advertisements', '1', '--state-dir', stateDir]);
  runs.push(run);
  return run;
}

interface HostAddress {
  readonly address: string;
  readonly deprecated: boolean;
  readonly validSec: number;
}

/** The host's global SLAAC addresses on v1 under `prefix` (e.g. "2001:db8:a1:"), with the kernel's lifetimes. */
function hostAddresses(prefix: string): HostAddress[] {
  return ip('-n', HOST, '-6', '-o', 'addr', 'show', 'dev', 'v1', 'scope', 'global')
    .split('\n')
    .filter((l) => l.includes(`inet6 ${prefix}`) && !/\btentative\b/.test(l))
    .map((l) => ({ address: /inet6 (\S+)/.exec(l)![1]!, deprecated: /\bdeprecated\b/.test(l), validSec: Number(/valid_lft (\d+)sec/.exec(l)?.[1] ?? 'NaN') }));
}

describe('ra-sender renumbering across a restart (RFC 9096)', () => {
  it('the host sees the old address deprecated then removed, the new one preferred, across a restart', async () => {
    const first = start('2001:db8:a1::/64');
    await logged(first, 'advertising');
    await waitUntil(() => hostAddresses('2001:db8:a1:').some((a) => !a.deprecated), 30_000, 'a preferred 2001:db8:a1:: address on the host');
    expect(await stopAgent(first)).toBe(0);
    const saved = JSON.parse(readFileSync(join(stateDir, 'ra-sender.state.json'), 'utf8')) as { interfaces: Record<string, { prefix: string }[]> };
    expect(saved.interfaces.v0!.map((p) => p.prefix)).toEqual(['2001:db8:a1::/64']);

    const second = start('2001:db8:a2::/64');
    await logged(second, 'advertising');
    await waitUntil(() => hostAddresses('2001:db8:a2:').some((a) => !a.deprecated), 30_000, 'a preferred 2001:db8:a2:: address on the host');
    let old: HostAddress | undefined;
    await waitUntil(() => (old = hostAddresses('2001:db8:a1:').find((a) => a.deprecated)) !== undefined || hostAddresses('2001:db8:a1:').length === 0, 30_000, 'the 2001:db8:a1:: address deprecated');
    // Deprecated by our RA (preferred 0), not by its own preferred lifetime: more than 5 s of valid lifetime left.
    expect(old).toBeDefined();
    expect(old!.validSec).toBeGreaterThan(5);
    const status = JSON.parse(execFileSync('ip', ['netns', 'exec', ROUTER, process.execPath, MAIN, 'status', '--json'], { encoding: 'utf8' })) as { interfaces: { deprecated: { prefix: string; remainingSec: number }[] }[] };
    expect(status.interfaces[0]!.deprecated.map((d) => d.prefix)).toEqual(['2001:db8:a1::/64']);
    // Its valid lifetime runs out: the kernel removes the address; the new one stays preferred.
    await waitUntil(() => hostAddresses('2001:db8:a1:').length === 0, 90_000, 'the 2001:db8:a1:: address removed');
    expect(hostAddresses('2001:db8:a2:').filter((a) => !a.deprecated).length).toBe(1);
    expect(await stopAgent(second)).toBe(0);
  }, 180_000);
});
