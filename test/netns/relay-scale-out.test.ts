// Two teredo-relay instances sharing 2001::/32 (issue 20 point 5, docs/scaling-out.md): each relay host runs
// BIRD 2 with examples/bird/teredo-relay.conf, which announces the prefix by BGP while the relay's own route is in
// the kernel; the upstream router runs examples/bird/upstream.conf and installs one ECMP route through both.
// Our clients behind three NATs reach host6 through the pair; the relay carrying a client's transfers is
// killed by PID in their middle; the upstream loses that next hop, the survivor takes the flows (unknown peers
// to it: bubbles through the server, the symmetric-NAT client's nonce proof, the client's connectivity test),
// and the transfers complete with the same SHA-256 at both ends. The failover time is measured and printed.
//
// Namespaces `hs-*` of its own (scale-out-plan.ts), built by lab/netns.ts, torn down after the file.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNetwork, destroyNamespaces, existingNamespaces, namespaces } from '../../lab/netns.js';
import { teredoClientStatus } from '../../lab/occupants/teredo-client-ours.js';
import { teredoRelayStatus } from '../../lab/occupants/teredo-relay-ours.js';
import type { TeredoRelayStatus } from '../../agents/teredo-relay/status.js';
import { distFile, repoRoot } from '../../lab/paths.js';
import { exec, execOk, inNs, spawnDetached, waitFor, type ExecOptions } from '../../lab/run.js';
import { spawnAgent, type AgentRun } from './agent-process.js';
import { JsonLines } from './lab.js';
import { RELAY_NODES, SCALE, SCALE_SITES, planScaleOut, type RelayNode } from './scale-out-plan.js';
import { TCP_RECEIVER, TCP_SENDER } from './tcp-transfer.js';

const plan = planScaleOut();
const tmp = mkdtempSync(join(tmpdir(), 'hs-'));
const runs: AgentRun[] = [];
const relays = new Map<RelayNode, AgentRun>();
const ns = (node: string): string => plan.nodes[node]!.ns;
const inNode = (node: string) => ({ exec: (argv: readonly string[], o?: ExecOptions) => exec(inNs(ns(node), argv), o) });
const birdCtl = (node: string): string => join(tmp, `bird-${node}.ctl`);
const agent = (name: string): string => distFile(`agents/${name}/main.js`);

function start(node: string, argv: readonly string[]): AgentRun {
  const run = spawnAgent(inNs(ns(node), argv));
  runs.push(run);
  return run;
}

function startBird(node: string, conf: string): void {
  runs.push(spawnAgent(inNs(ns(node), ['bird', '-f', '-c', join(repoRoot(), 'examples/bird', conf), '-s', birdCtl(node)])));
}

function startRelay(node: RelayNode): void {
  const { v4, v6 } = SCALE.relays[node];
  relays.set(node, start(node, [process.execPath, agent('teredo-relay'), '--bind', v4, '--icmpv6-source', v6, '--stats-interval', '0']));
}

/** The upstream's next hops for 2001::/32 (`ip -6 route` prints one `via` per path). */
async function upstreamNextHops(): Promise<string[]> {
  const r = await execOk(['ip', '-n', ns('up'), '-6', 'route', 'show', SCALE.teredoPrefix]);
  return [...r.stdout.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
}

async function relayStatus(node: RelayNode): Promise<TeredoRelayStatus> {
  const s = await teredoRelayStatus(inNode(node));
  if (s?.lifecycle !== 'running') throw new Error(`${node}: teredo-relay is not running (status ${JSON.stringify(s)})`);
  return s;
}

async function clientAddress(node: string): Promise<string> {
  return waitFor(`${node} qualified`, async () => {
    const s = await teredoClientStatus(inNode(node));
    return s?.state === 'qualified' ? (s.address ?? undefined) : undefined;
  }, 60_000, 500);
}

/** `ping` output of 3 Echo Requests from `from` to `to`, after 2 unchecked ones (they find the relay, §5.2.9). */
async function pings(from: string, to: string): Promise<string> {
  await exec(inNs(ns(from), ['ping', '-6', '-n', '-c', '2', '-W', '3', to]));
  return (await exec(inNs(ns(from), ['ping', '-6', '-n', '-c', '3', '-i', '0.2', '-W', '5', to]))).stdout;
}

beforeAll(async () => {
  await destroyNamespaces(await existingNamespaces(SCALE.id));
  await buildNetwork(plan);
  startBird('up', 'upstream.conf');
  for (const r of RELAY_NODES) startBird(r, 'teredo-relay.conf');
  start('server', [process.execPath, agent('teredo-server'), '--address', SCALE.server, '--secondary-address', SCALE.server2, '--forward-interface', 'teredo']);
  for (const r of RELAY_NODES) startRelay(r);
  for (const s of SCALE_SITES) start(s.client, [process.execPath, agent('teredo-client'), '--server', SCALE.server, '--secondary-server', SCALE.server2, '--interface', 'teredo']);
}, 180_000);

afterAll(async () => {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await Promise.all(runs.map((r) => r.exited));
  await destroyNamespaces(namespaces(plan));
  rmSync(tmp, { recursive: true, force: true });
});

describe('two relays announce 2001::/32 through BIRD', () => {
  it('the upstream router has one route with both relays as next hops, learned by BGP', async () => {
    const both = Object.values(SCALE.relays).map((r) => r.v6).sort();
    await waitFor('both relays announced', async () => ((await upstreamNextHops()).join() === both.join() ? true : undefined), 60_000, 200);
    const routes = await execOk(['birdc', '-s', birdCtl('up'), 'show', 'route', 'for', SCALE.teredoPrefix]);
    expect(routes.stdout).toMatch(/\[relay_a /);
    expect(routes.stdout).toMatch(/\[relay_b /);
  });

  it('each client behind its NAT pings host6 through the pair, and host6 pings it back', async () => {
    const carried: Record<string, number> = {};
    for (const s of SCALE_SITES) {
      const addr = await clientAddress(s.client);
      expect(await pings(s.client, SCALE.host6), `${s.client} -> host6`).toMatch(/3 packets transmitted, 3 received/);
      expect(await pings('host6', addr), `host6 -> ${s.client}`).toMatch(/3 packets transmitted, 3 received/);
    }
    for (const r of RELAY_NODES) carried[r] = (await relayStatus(r)).peers;
    console.log(`peers per relay (ECMP on the address pair): ${JSON.stringify(carried)}`);
    expect(Object.values(carried).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(SCALE_SITES.length);
  });
});

describe('one relay killed mid-transfer', () => {
  const MIB = 1024 * 1024;
  const TOTAL = 10 * MIB;
  const RATE = MIB; // bytes per second: a 10 s transfer, killed in its middle

  it('the route is withdrawn, the other relay takes the flows, and both transfers arrive intact', async () => {
    const client = SCALE_SITES[0]!.client; // behind the port-restricted NAT
    const addr = await clientAddress(client);
    // Echo Requests every 10 ms from the client for the whole test, with reception times (-D): the failover.
    const ping = start(client, ['ping', '-6', '-n', '-D', '-i', '0.01', '-W', '1', SCALE.host6]);
    let pingOut = '';
    ping.child.stdout!.on('data', (b: Buffer) => (pingOut += b.toString()));
    const down = new JsonLines(start(client, [process.execPath, '-e', TCP_RECEIVER, addr, '5001']).child);
    const up = new JsonLines(start('host6', [process.execPath, '-e', TCP_RECEIVER, SCALE.host6, '5002']).child);
    await Promise.all([down.next('listening'), up.next('listening')]);
    const senders = [
      exec(inNs(ns('host6'), [process.execPath, '-e', TCP_SENDER, addr, '5001', String(TOTAL), String(RATE)]), { timeoutMs: 200_000 }),
      exec(inNs(ns(client), [process.execPath, '-e', TCP_SENDER, SCALE.host6, '5002', String(TOTAL), String(RATE)]), { timeoutMs: 200_000 }),
    ];
    const received = (j: JsonLines): number => Math.max(0, ...j.lines.map((l) => Number(l.received ?? 0)));
    await waitFor('3 MiB each way', async () => (received(down) >= 3 * MIB && received(up) >= 3 * MIB ? true : undefined), 120_000, 100);

    // The relay the upstream hashes this client's flows to carried the bytes so far.
    const before = new Map<RelayNode, number>();
    for (const r of RELAY_NODES) before.set(r, (await relayStatus(r)).toTeredo.bytes);
    const [victim, survivor] = [...RELAY_NODES].sort((a, b) => before.get(b)! - before.get(a)!) as [RelayNode, RelayNode];
    expect(before.get(victim)).toBeGreaterThanOrEqual(2 * MIB);
    const victimRun = relays.get(victim)!;
    const killedAt = Date.now();
    process.kill(victimRun.child.pid!, 'SIGKILL');
    await waitFor('the withdrawal', async () => ((await upstreamNextHops()).join() === SCALE.relays[survivor].v6 ? true : undefined), 30_000, 20);
    const withdrawnMs = Date.now() - killedAt;

    const results = await Promise.all(senders);
    const sent = results.map((r) => JSON.parse(r.stdout.trim()) as { sent: number; sha256: string });
    expect(await down.next('bytes', 60_000), 'host6 -> client').toEqual({ bytes: TOTAL, sha256: sent[0]!.sha256 });
    expect(await up.next('bytes', 60_000), 'client -> host6').toEqual({ bytes: TOTAL, sha256: sent[1]!.sha256 });
    // Its output is complete at 'close' (after 'exit').
    const closed = new Promise((resolve) => ping.child.once('close', resolve));
    ping.child.kill('SIGINT');
    await closed;

    const outage = failover(pingOut, killedAt);
    console.log(`${victim} killed: route withdrawn at the upstream after ${withdrawnMs} ms; ${outage.lost === 0 ? 'no Echo Request lost' : `ping replies again after ${outage.ms} ms (${outage.lost} Echo Requests lost)`}; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    expect(outage.ms, 'no reply after the kill').toBeGreaterThanOrEqual(0);
    expect((await relayStatus(survivor)).toTeredo.bytes - before.get(survivor)!).toBeGreaterThanOrEqual(MIB);
  }, 240_000);

  it('every client reaches host6 through the survivor, both ways', async () => {
    // host6 first: a client whose traffic to host6 went to the dead relay keeps sending there until a packet
    // from host6 comes through the survivor (or 30 s of silence, RFC 4380 §5.2.4), docs/scaling-out.md.
    for (const s of SCALE_SITES) {
      const addr = await clientAddress(s.client);
      expect(await pings('host6', addr), `host6 -> ${s.client}`).toMatch(/3 packets transmitted, 3 received/);
      expect(await pings(s.client, SCALE.host6), `${s.client} -> host6`).toMatch(/3 packets transmitted, 3 received/);
    }
  });

  it('the killed relay, started again, is announced again', async () => {
    const dead = RELAY_NODES.find((r) => relays.get(r)!.child.signalCode === 'SIGKILL');
    expect(dead, 'a relay was killed').toBeDefined();
    startRelay(dead!);
    const both = Object.values(SCALE.relays).map((r) => r.v6).sort();
    await waitFor('the restarted relay announced', async () => ((await upstreamNextHops()).join() === both.join() ? true : undefined), 60_000, 200);
  });
});

describe('a relay alive but stuck', () => {
  it('scripts/teredo-relay-watch.sh withdraws it while it does not answer (SIGSTOP) and announces it again (SIGCONT)', async () => {
    const node: RelayNode = 'relay-a';
    const log = join(tmp, 'watch.log');
    const env = { ...process.env, TEREDO_RELAY: `${process.execPath} ${agent('teredo-relay')}`, WATCH_INTERVAL: '1', BIRD_SOCKET: birdCtl(node) };
    const watch = spawnDetached(inNs(ns(node), ['sh', join(repoRoot(), 'scripts/teredo-relay-watch.sh')]), { logFile: log, env });
    const both = Object.values(SCALE.relays).map((r) => r.v6).sort();
    try {
      await waitFor('the watcher', async () => (readFileSync(log, 'utf8').includes('enable upstream') ? true : undefined), 60_000, 200);
      const pid = relays.get(node)!.child.pid!;
      process.kill(pid, 'SIGSTOP');
      const stoppedAt = Date.now();
      try {
        await waitFor('the withdrawal', async () => ((await upstreamNextHops()).join() === SCALE.relays['relay-b'].v6 ? true : undefined), 60_000, 50);
        console.log(`${node} stopped: withdrawn by the watcher after ${Date.now() - stoppedAt} ms (1 s interval, 1 s status timeout)`);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await waitFor('announced again', async () => ((await upstreamNextHops()).join() === both.join() ? true : undefined), 60_000, 200);
    } finally {
      process.kill(watch.pid!, 'SIGTERM');
    }
  });
});

/**
 * From `ping -D` output: the time from `killedAt` (ms) to the first reply after the first Echo Request left
 * unanswered after the last reply before the kill (0 when none was lost; -1 when no reply came after it), and
 * how many went unanswered.
 */
function failover(out: string, killedAt: number): { ms: number; lost: number } {
  const replies = new Map<number, number>();
  for (const m of out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from .* icmp_seq=(\d+) /gm)) replies.set(Number(m[2]), Number(m[1]) * 1000);
  const seqs = [...replies.keys()].sort((a, b) => a - b);
  const lastBefore = Math.max(0, ...seqs.filter((s) => replies.get(s)! < killedAt));
  const missing: number[] = [];
  for (let s = lastBefore + 1; s <= seqs.at(-1)!; s++) if (!replies.has(s)) missing.push(s);
  if (missing.length === 0) return { ms: 0, lost: 0 };
  const back = seqs.find((s) => s > missing[0]!);
  return { ms: back === undefined ? -1 : Math.round(replies.get(back)! - killedAt), lost: missing.length };
}
