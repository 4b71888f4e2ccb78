// Agents run as processes by the netns tests (units.test.ts, metrics.test.ts): `argv` spawned as given (e.g.
// `ip netns exec NS ...`, which execs, so the child's PID is the agent's), its JSON log lines collected from
// stdout and stderr (rasadv listen logs on stderr, its stdout is the server list), other stderr text kept (the
// start-up error). Stopped by SIGTERM to that PID. And the two namespaces those tests run them in.

import { spawn, type ChildProcess } from 'node:child_process';
import { addNetns, ip, waitUntil } from './io-netns.js';

/**
 * Fresh namespaces `a` and `b` joined by a veth pair: v0 in `a` (192.0.2.10/24 and 192.0.2.11/24, the default
 * route: the advertiser's single socket sends its multicast along it) and v1 in `b` (192.0.2.20/24), both up
 * with a carrier (Node lists only running interfaces, which the rasadv listener takes by default).
 */
export async function agentLink(a: string, b: string): Promise<void> {
  addNetns(a);
  addNetns(b);
  ip('-n', a, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1', 'netns', b);
  ip('-n', a, 'addr', 'add', '192.0.2.10/24', 'dev', 'v0');
  ip('-n', a, 'addr', 'add', '192.0.2.11/24', 'dev', 'v0');
  ip('-n', b, 'addr', 'add', '192.0.2.20/24', 'dev', 'v1');
  ip('-n', a, 'link', 'set', 'v0', 'up');
  ip('-n', b, 'link', 'set', 'v1', 'up');
  ip('-n', a, 'route', 'add', 'default', 'dev', 'v0');
  await waitUntil(() => /state UP/.test(ip('-n', a, 'link', 'show', 'v0')) && /state UP/.test(ip('-n', b, 'link', 'show', 'v1')), 5000, 'carrier on v0 and v1');
}

export interface AgentRun {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  stderr: string;
  readonly exited: Promise<number | null>;
}

export function spawnAgent(argv: readonly string[]): AgentRun {
  const [bin, ...args] = argv;
  const child = spawn(bin!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const run: AgentRun = { child, lines: [], stderr: '', exited: new Promise((r) => child.once('exit', (code) => r(code))) };
  let buffered = '';
  const onLog = (chunk: Buffer): void => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) run.lines.push(JSON.parse(p) as Record<string, unknown>);
  };
  child.stdout.on('data', onLog);
  child.stderr.on('data', (c: Buffer) => {
    if (c.toString().startsWith('{')) onLog(c);
    else run.stderr += c.toString();
  });
  return run;
}

/** The first log line with message `msg`; throws when the agent exits first or after 15 s. */
export async function logged(run: AgentRun, msg: string): Promise<Record<string, unknown>> {
  await waitUntil(() => run.lines.some((l) => l.msg === msg) || run.child.exitCode !== null, 15_000, `"${msg}"`);
  const hit = run.lines.find((l) => l.msg === msg);
  if (!hit) throw new Error(`exited ${run.child.exitCode} before logging "${msg}": ${run.stderr}${JSON.stringify(run.lines)}`);
  return hit;
}

/** SIGTERM unless it has exited already; resolves with the exit code. */
export async function stopAgent(run: AgentRun): Promise<number | null> {
  if (run.child.exitCode === null) run.child.kill('SIGTERM');
  return run.exited;
}
